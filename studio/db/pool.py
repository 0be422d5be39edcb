"""Opening connections to the studio database, migrated before first use.

The service's pool has a connect and a command timeout: with the database stopped or stalled a
request fails within seconds (the API answers 503) instead of waiting for it. A connection the server
closed is replaced on the next acquire, so the service recovers by itself when the database is back.
A pool migrates the database with its first connection, whenever that is: `open_service_pool` is made
while the database is away, and the service starts and answers 503 until it is back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

import asyncpg

from studio.db.keepalive import SERVER_KEEPALIVES
from studio.db.migrate import migrate

log = logging.getLogger("studio.db.pool")

_scan_json = json.JSONDecoder().scan_once


def _decode_jsonb(text: str):
    """PostgreSQL writes a jsonb value as exactly one JSON document, no whitespace around it: the
    decoder's scanner reads it directly, without json.loads's two Python layers and two whitespace
    regexes (a sensor tick decodes ~16,000 documents)."""
    return _scan_json(text, 0)[0]


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb columns come back as Python objects rather than strings.
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=_decode_jsonb, schema="pg_catalog")


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

# The database is away or too slow: connecting failed, the connection died, a statement timed out.
DATABASE_AWAY = (DatabaseUnavailable, asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError,
                 TimeoutError, ConnectionError)


async def _connect_or_unavailable(*args, **kwargs) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(*args, **kwargs)
    except UNREACHABLE as exc:
        raise DatabaseUnavailable(f"the database cannot be reached: {type(exc).__name__}") from exc


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10, connect_timeout_s: float = 2.0,
                      command_timeout_s: float | None = 10.0) -> asyncpg.Pool:
    """With min_size 0 nothing is opened here: the first acquire connects (and migrates)."""
    migrated = False
    lock = asyncio.Lock()

    async def init(conn: asyncpg.Connection) -> None:
        nonlocal migrated
        await _init_connection(conn)
        if not migrated:
            async with lock:
                if not migrated:
                    # Its own connection, without the pool's command timeout: a migration may be long.
                    async with connect(url, timeout=connect_timeout_s) as admin:
                        await migrate(admin)
                    migrated = True

    # UTC: timestamps PostgreSQL renders as JSON (studio.review.queries) read the same on every server.
    return await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, init=init,
                                     reset=_keep_session, server_settings={"TimeZone": "UTC", **SERVER_KEEPALIVES},
                                     connect=_connect_or_unavailable, timeout=connect_timeout_s,
                                     command_timeout=command_timeout_s)


async def open_service_pool(url: str, **options) -> asyncpg.Pool:
    """The review service's pool, made even while the database is away: routes answer 503 until it is
    back, then the next request connects and migrates, without a restart."""
    pool = await create_pool(url, min_size=0, **options)
    try:
        async with pool.acquire():
            pass  # connect and migrate now when the database is there
    except DatabaseUnavailable as exc:
        log.warning("starting without the database (%s): answering 503 until it is back", exc)
    return pool


@asynccontextmanager
async def connect(url: str, *, timeout: float = 60.0) -> AsyncIterator[asyncpg.Connection]:
    conn = await _connect_or_unavailable(url, timeout=timeout)
    await _init_connection(conn)
    try:
        yield conn
    finally:
        await conn.close()
