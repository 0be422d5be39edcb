"""Opening connections to the studio database, migrated before first use."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from typing import AsyncIterator

import asyncpg

from studio.db.migrate import migrate


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb columns come back as Python objects rather than strings.
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    async with connect(url) as conn:
        await migrate(conn)
    # UTC: timestamps PostgreSQL renders as JSON (studio.review.queries) read the same on every server.
    return await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, init=_init_connection,
                                     server_settings={"TimeZone": "UTC"})


@asynccontextmanager
async def connect(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(url)
    await _init_connection(conn)
    try:
        yield conn
    finally:
        await conn.close()
