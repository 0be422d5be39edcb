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


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's reset query (unlock all, CLOSE ALL, UNLISTEN, RESET ALL).

    That query is one more round trip for every pooled query, for state this code never leaves on a
    session: advisory locks are transaction-scoped (pg_advisory_xact_lock), nothing LISTENs, SETs or
    keeps a cursor outside a transaction. asyncpg still rolls back an open transaction on release.
    """


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    async with connect(url) as conn:
        await migrate(conn)
    # UTC: timestamps PostgreSQL renders as JSON (studio.review.queries) read the same on every server.
    return await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, init=_init_connection,
                                     reset=_keep_session, server_settings={"TimeZone": "UTC"})


@asynccontextmanager
async def connect(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(url)
    await _init_connection(conn)
    try:
        yield conn
    finally:
        await conn.close()
