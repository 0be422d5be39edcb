"""One place that turns settings into a migrated database connection, for the CLI and the API."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

import asyncpg

from studio.settings import Settings
from studio.db.dsn import resolve_database_url
from studio.db.migrate import migrate
from studio.db.pool import connect


@asynccontextmanager
async def studio_connection(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    url = await resolve_database_url(settings)
    async with connect(url) as conn:
        await migrate(conn)
        yield conn
