"""Opening connections to the studio database, migrated before first use.

The service's pool has a connect and a command timeout: with the database stopped or stalled a
request fails within seconds (the API answers 503) instead of waiting for it. A connection the server
closed is replaced on the next acquire, so the service recovers by itself when the database is back.
"""

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


class DatabaseUnavailable(ConnectionError):
    """The database cannot be reached now (refused, timed out, starting or shutting down)."""


# What connecting raises when the server is away: refused or missing socket (OSError), no answer in
# time, or a server that is starting up or shutting down.
UNREACHABLE = (OSError, TimeoutError, asyncpg.CannotConnectNowError, asyncpg.PostgresConnectionError)


async def _connect_or_unavailable(*args, **kwargs) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(*args, **kwargs)
    except UNREACHABLE as exc:
        raise DatabaseUnavailable(f"the database cannot be reached: {type(exc).__name__}") from exc


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10, connect_timeout_s: float = 2.0,
                      command_timeout_s: float | None = 10.0) -> asyncpg.Pool:
    async with connect(url) as conn:
        await migrate(conn)
    # UTC: timestamps PostgreSQL renders as JSON (studio.review.queries) read the same on every server.
    return await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, init=_init_connection,
                                     reset=_keep_session, server_settings={"TimeZone": "UTC"},
                                     connect=_connect_or_unavailable, timeout=connect_timeout_s,
                                     command_timeout=command_timeout_s)


@asynccontextmanager
async def connect(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(url)
    await _init_connection(conn)
    try:
        yield conn
    finally:
        await conn.close()
