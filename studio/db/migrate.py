"""Versioned SQL migrations, applied at start-up.

Files `migrations/NNNN_name.sql` run in order, each in its own transaction, while the process holds
a session advisory lock: several processes starting at once (webserver, daemon, API) serialise
here, and the later ones find nothing left to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Any fixed 64-bit number; it only has to be the same in every process that migrates this database.
MIGRATION_LOCK_ID = 0x5157_0D10_0001
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Databases this process has migrated (by URL): code that connects again and again, like the partition
# sensor every 15 s, takes the migration lock only once instead of queueing behind a long migration.
_MIGRATED: set[str] = set()


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise ValueError(f"{path}: migration files are named NNNN_name.sql")
        migrations.append(Migration(int(match[1]), match[2], path.read_text()))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise ValueError(f"{directory}: two migrations share a version number")
    return migrations


async def migrate(conn: asyncpg.Connection, migrations: list[Migration] | None = None) -> list[int]:
    """Apply the migrations this database lacks; return the versions applied by this call."""
    migrations = load_migrations() if migrations is None else migrations
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version    integer PRIMARY KEY,
                   name       text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        applied = []
        for migration in migrations:
            if migration.version in done:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version,
                    migration.name,
                )
            applied.append(migration.version)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)


async def migrate_once(conn: asyncpg.Connection, url: str) -> None:
    """`migrate` the database at `url` the first time this process connects to it; afterwards nothing.
    A migration added while the process runs is applied by the next process start (CLI, API, pools)."""
    if url in _MIGRATED:
        return
    await migrate(conn)
    _MIGRATED.add(url)
