"""`studio clean` (`make clean`): delete the studio home, but never under running services and never
a person's review decisions without asking.

It refuses while `studio up` runs or while anything else is connected to the embedded PostgreSQL
(a `make webserver` in another terminal); it counts the human decisions the home holds and asks
before deleting them (`--yes` answers for scripts; without a terminal and without `--yes` it refuses).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from typing import Callable

import asyncpg

from studio.db import embedded
from studio.service_state import running_services
from studio.settings import Settings


class CleanRefused(RuntimeError):
    pass


async def _embedded_facts(settings: Settings) -> tuple[int, int]:
    """(other connections to the server, human decisions in the studio database)."""
    server_url = embedded.start_embedded_server(settings.embedded_pg_dir)
    conn = await asyncpg.connect(server_url)
    try:
        others = await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                                     "AND pid <> pg_backend_pid()")
        has_studio = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", embedded.STUDIO_DB)
    finally:
        await conn.close()
    if not has_studio:
        return others, 0
    studio = await asyncpg.connect(embedded.database_url(server_url, embedded.STUDIO_DB))
    try:
        has_images = await studio.fetchval("SELECT to_regclass('public.images') IS NOT NULL")
        human = await studio.fetchval("SELECT count(*) FROM images WHERE decided_by = 'human'") if has_images else 0
    finally:
        await studio.close()
    return others, human


def clean_home(settings: Settings, *, yes: bool, ask: Callable[[str], str] | None = None) -> str:
    home = settings.home
    running = running_services(settings)
    if running:
        raise CleanRefused(f"services are running ({', '.join(sorted(running))}): run `make stop` first")
    uses_embedded = not settings.secret("database_url") and not settings.vault_addr
    if uses_embedded and settings.embedded_pg_dir.exists():
        others, human = asyncio.run(_embedded_facts(settings))
        if others:
            raise CleanRefused(f"{others} other connection(s) to the embedded PostgreSQL in {settings.embedded_pg_dir} "
                               "(a `make webserver`, `make daemon` or `make serve` still running?): stop them first")
        if human and not yes:
            question = (f"{home} holds {human} human review decision(s). Keep them with `studio export FILE` first. "
                        "Delete everything? Type 'delete' to continue: ")
            if ask is None and not sys.stdin.isatty():
                raise CleanRefused(f"{home} holds {human} human review decision(s); run `studio export FILE` to keep "
                                   "them, then `make clean CLEAN_ARGS=--yes` (or `studio clean --yes`)")
            answer = (ask or input)(question)
            if answer.strip().lower() != "delete":
                raise CleanRefused("nothing deleted")
        embedded.stop_embedded_server(settings.embedded_pg_dir)
    if home.exists():
        shutil.rmtree(home)
        return f"deleted {home}"
    return f"nothing to delete: {home} does not exist"
