"""A session advisory lock held on a connection of its own while some work runs (a dataset batch, a
scene render): one such work per subject at a time.

Such a lock goes with its connection: a run that dies frees it, and so does a database that restarts
or kills the connection while the work runs. `HeldLock.hold()`, called before each step of the work,
notices (the pool hears of a lost connection at once; no round trip) and takes the lock again on a
fresh connection, or raises the refusal of `take` when another run took it meanwhile. Releasing a
lock whose connection went has nothing to release, and must not raise over the work's own outcome.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

import asyncpg

from studio.db.pool import DATABASE_AWAY
from studio.db.retry import retried


# A run killed a moment ago still holds its lock until its database backend notices the closed socket
# and exits: milliseconds, more on a loaded machine. The run that follows it waits that long rather than
# being told another run is at work.
TAKEOVER_GRACE_S = 2.0


async def take_session_lock(conn, lock_id: int, grace_s: float = TAKEOVER_GRACE_S) -> bool:
    """Take the lock; False when another session still holds it after `grace_s`."""
    deadline = asyncio.get_running_loop().time() + grace_s
    while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_id):
        if asyncio.get_running_loop().time() >= deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def release_session_lock(conn, lock_id: int) -> bool:
    """Release the lock; False when its connection, and the lock with it, was already gone."""
    try:
        await conn.execute("SELECT pg_advisory_unlock($1)", lock_id)
        return True
    except (*DATABASE_AWAY, asyncpg.InterfaceError):  # InterfaceError: the pool took the dead connection back
        return False


class HeldLock:
    """`async with HeldLock(pool, take, release, what, log) as lock:` holds the lock `take(conn)` takes
    (raising when another run holds it) until `release(conn)` (False when the connection had gone)."""

    def __init__(self, pool: asyncpg.Pool, take: Callable[[asyncpg.Connection], Awaitable[None]],
                 release: Callable[[asyncpg.Connection], Awaitable[bool]], what: str, log: logging.Logger):
        self._pool, self._take_on, self._release_on, self._what, self._log = pool, take, release, what, log
        self._conn: asyncpg.Connection | None = None
        self._retaking = asyncio.Lock()  # steps in flight notice together; one of them takes it again

    @property
    def connection(self) -> asyncpg.Connection:
        """The connection holding the lock (for work that needs the lock held while it runs)."""
        return self._conn

    async def _take(self) -> None:
        conn = await self._pool.acquire()
        try:
            await self._take_on(conn)
        except BaseException:
            await self._pool.release(conn)
            raise
        self._conn = conn

    def _held(self) -> bool:
        try:
            return self._conn is not None and not self._conn.is_closed()
        except asyncpg.InterfaceError:  # the pool has taken the dead connection back already
            return False

    async def __aenter__(self) -> HeldLock:
        await self._take()
        return self

    async def hold(self) -> None:
        if self._held():
            return
        async with self._retaking:
            if self._held():
                return
            self._log.warning("%s went with its connection (the database restarted?); taking it again", self._what)
            if self._conn is not None:
                await self._pool.release(self._conn)  # the pool replaces a closed connection (or has)
                self._conn = None
            await retried(self._take, log=self._log)

    async def __aexit__(self, *exc_info) -> None:
        if self._conn is None:
            return
        try:
            if not await self._release_on(self._conn):
                self._log.warning("%s: its connection was lost (the database restarted?)", self._what)
        finally:
            await self._pool.release(self._conn)
