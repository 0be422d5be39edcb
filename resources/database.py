"""The studio database as a Dagster resource.

Assets get an asyncpg pool opened in the step's own event loop (Dagster runs async assets on a loop
it owns, so a pool made at import or in another loop would break). Sensors have no loop: they use
`run_sync`, which opens one short connection.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, TypeVar

import asyncpg
import dagster as dg
from pydantic import PrivateAttr

from studio.settings import load_settings
from studio.db.dsn import resolve_database_url
from studio.db.migrate import migrate_once
from studio.db.pool import connect, create_pool

T = TypeVar("T")


class StudioDatabase(dg.ConfigurableResource):
    """Where the studio DB is. Leave `url` empty in production: it then comes from Vault,
    STUDIO_DATABASE_URL or the embedded server, so no credential ever sits in run config."""

    url: str = ""
    pool_max_size: int = 8

    _pool: asyncpg.Pool | None = PrivateAttr(default=None)
    _pool_lock: asyncio.Lock | None = PrivateAttr(default=None)

    async def resolved_url(self) -> str:
        return self.url or await resolve_database_url(load_settings())

    async def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            if self._pool_lock is None:
                self._pool_lock = asyncio.Lock()
            async with self._pool_lock:
                if self._pool is None:
                    self._pool = await create_pool(await self.resolved_url(), max_size=self.pool_max_size)
        return self._pool

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._pool is not None and context.event_loop is not None:
            context.event_loop.run_until_complete(self._pool.close())
            self._pool = None

    def run_sync(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Run `work` on one fresh connection, from code with no event loop (sensors). The database is
        migrated on this process's first call only: a sensor tick must not wait on the migration lock."""

        done: list[T] = []

        async def _run() -> None:
            url = await self.resolved_url()
            async with connect(url) as conn:
                await migrate_once(conn, url)
                done.append(await work(conn))

        # The result is handed out beside the task, not as its result: on the main thread
        # asyncio.run (3.11) looks up its own SIGINT handler through signal.getsignal, which formats
        # the handler's repr, main task and its result included, into an error it then discards. A
        # tick's outcome (1,000 decisions) took ~40 ms to repr for nothing.
        asyncio.run(_run())
        return done[0]
