"""Database work that outlives a short outage: a restart of PostgreSQL, or connections it killed.

A unit of work is one transaction, so a retry repeats all of it or none was kept. The one doubt is a
connection lost during COMMIT: the work may be stored already, so each unit must be safe to run
twice (check for its own earlier result). Past `within_s` the outage is not short: `DatabaseLost`,
marked permanent, stops a batch instead of letting every later image wait out the same bound.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable, TypeVar

import asyncpg

from studio.db.pool import DATABASE_AWAY, DatabaseUnavailable

T = TypeVar("T")
_log = logging.getLogger(__name__)


class DatabaseLost(DatabaseUnavailable):
    """The database stayed away longer than a restart takes."""

    permanent = True  # batches stop here: every later write would wait the same way


async def in_transaction(pool: asyncpg.Pool, work: Callable[[asyncpg.Connection], Awaitable[T]], *,
                         within_s: float = 30.0, retry_every_s: float = 0.5,
                         log: logging.Logger | None = None) -> T:
    """`work(conn)` in one transaction, again on a fresh connection while the database is away."""
    async def transaction(conn: asyncpg.Connection) -> T:
        async with conn.transaction():
            return await work(conn)

    return await one_statement(pool, transaction, within_s=within_s, retry_every_s=retry_every_s, log=log)


async def one_statement(pool: asyncpg.Pool, work: Callable[[asyncpg.Connection], Awaitable[T]], *,
                        within_s: float = 30.0, retry_every_s: float = 0.5,
                        log: logging.Logger | None = None) -> T:
    """`work(conn)` as it is, retried like `in_transaction`: for work that is a single statement, which
    PostgreSQL runs as its own transaction (BEGIN and COMMIT would be two more round trips)."""
    async def attempt() -> T:
        async with pool.acquire() as conn:
            return await work(conn)

    return await retried(attempt, within_s=within_s, retry_every_s=retry_every_s, log=log)


async def retried(attempt: Callable[[], Awaitable[T]], *, within_s: float = 30.0, retry_every_s: float = 0.5,
                  log: logging.Logger | None = None) -> T:
    """`attempt()` again every `retry_every_s` while the database is away, for up to `within_s`."""
    deadline = time.monotonic() + within_s
    warned = False
    while True:
        try:
            return await attempt()
        except DATABASE_AWAY as exc:
            if time.monotonic() + retry_every_s > deadline:
                raise DatabaseLost(f"the studio database was away for more than {within_s:g} s "
                                   f"({type(exc).__name__}: {exc})") from exc
            if not warned:
                (log or _log).warning("the studio database is away (%s: %s); retrying for up to %g s",
                                      type(exc).__name__, exc, within_s)
                warned = True
            await asyncio.sleep(retry_every_s)
