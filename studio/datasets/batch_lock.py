"""The character's batch lock, held for a whole batch: one batch of a character at a time (two would
draw the same seeds).

It is a session advisory lock on a connection of its own, so a run that dies frees it. A database that
restarts, or kills that connection, frees it too while the batch goes on: `hold()`, before each job,
notices (the pool hears of a lost connection at once; no round trip) and takes the lock again on a fresh
connection, or stops the batch with BatchBusy when another run took it meanwhile.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from studio.datasets import repository as repo
from studio.datasets.models import CharacterContext
from studio.db.retry import retried


class BatchLock:
    def __init__(self, pool: asyncpg.Pool, character: CharacterContext, log: logging.Logger):
        self._pool, self._character, self._log = pool, character, log
        self._conn: asyncpg.Connection | None = None
        self._retaking = asyncio.Lock()  # jobs in flight notice together; one of them takes it again

    @property
    def connection(self) -> asyncpg.Connection:
        """The connection holding the lock (for work that needs the lock held while it runs)."""
        return self._conn

    async def _take(self) -> None:
        conn = await self._pool.acquire()
        try:
            await repo.lock_batches(conn, self._character)
        except BaseException:
            await self._pool.release(conn)
            raise
        self._conn = conn

    async def __aenter__(self) -> BatchLock:
        await self._take()
        return self

    def _held(self) -> bool:
        try:
            return self._conn is not None and not self._conn.is_closed()
        except asyncpg.InterfaceError:  # the pool has taken the dead connection back already
            return False

    async def hold(self) -> None:
        if self._held():
            return
        async with self._retaking:
            if self._held():
                return
            self._log.warning("%s: the batch lock went with its connection (the database restarted?); taking "
                              "it again", self._character.slug)
            if self._conn is not None:
                await self._pool.release(self._conn)  # the pool replaces a closed connection (or has)
                self._conn = None
            await retried(self._take, log=self._log)

    async def __aexit__(self, *exc_info) -> None:
        if self._conn is None:
            return
        try:
            if not await repo.unlock_batches(self._conn, self._character):
                self._log.warning("%s: the batch lock's connection was lost (the database restarted?)",
                                  self._character.slug)
        finally:
            await self._pool.release(self._conn)
