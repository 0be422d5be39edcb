"""The development DAGSTER_HOME: Dagster's storage in the embedded PostgreSQL, pools set up once.

Dagster's SQLite storage cannot keep pools: its slot claim is a SELECT then an UPDATE whose row lock
SQLite ignores, so two run processes (the daemon launches each run in its own) could both take the
one GPU slot. The dev home therefore keeps Dagster's runs and events in a `dagster` database of the
embedded server, as production does on its own server (deploy/dagster.postgres.yaml). A dagster.yaml
already in $DAGSTER_HOME is used as it is.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import yaml

from studio.settings import Settings
from studio.db.embedded import ensure_database, start_embedded_server
from studio.uploads import write_atomically

# Pools, run queue and telemetry: what every dev instance shares; storage is added per studio home.
TEMPLATE = Path(__file__).resolve().parents[1] / "dagster.yaml"
DAGSTER_DB = "dagster"


def embedded_storage_url(pg_dir: Path) -> str:
    # dagster-postgres needs psycopg2 spelled out (SQLAlchemy 2.1 would pick psycopg 3); no password
    # on the embedded server's Unix socket, so nothing secret lands in the file.
    return f"postgresql+psycopg2://postgres@/{DAGSTER_DB}?host={pg_dir.resolve()}"


def dev_instance_yaml(pg_dir: Path) -> str:
    config = yaml.safe_load(TEMPLATE.read_text())
    config["storage"] = {"postgres": {"postgres_url": embedded_storage_url(pg_dir)}}
    return "# Written by `studio dagster-init` from the repo's dagster.yaml.\n" + yaml.safe_dump(config, sort_keys=False)


def dagster_home_dir(settings: Settings) -> Path:
    """$DAGSTER_HOME, or where `studio dagster-init` puts the instance without it."""
    return Path(os.environ.get("DAGSTER_HOME") or settings.home / "dagster")


def ensure_dagster_home(settings: Settings) -> Path:
    """$DAGSTER_HOME (default <studio home>/dagster) with a dagster.yaml, its database running."""
    home = dagster_home_dir(settings)
    config = home / "dagster.yaml"
    if not config.exists():
        write_atomically(config, dev_instance_yaml(settings.embedded_pg_dir).encode())
    if embedded_storage_url(settings.embedded_pg_dir) in config.read_text():
        asyncio.run(ensure_database(start_embedded_server(settings.embedded_pg_dir), DAGSTER_DB))
    os.environ["DAGSTER_HOME"] = str(home)
    return home


# Every pool our assets declare. Dagster creates a pool's slots lazily on first use, and two runs
# starting at once on a fresh instance can both create them (two slots for a limit of one): so the
# slots are created once here, when the home is set up, before several processes start.
POOLS = ("gpu",)


def initialize_pools(instance) -> None:
    storage = instance.event_log_storage
    known = storage.get_concurrency_keys()
    for pool in POOLS:
        # Only once: on PostgreSQL, Dagster 1.13's initialize fails for an existing pool (its INSERT
        # hits the unique key and the UPDATE that should follow runs in the aborted transaction).
        if pool not in known:
            storage.initialize_concurrency_limit_to_default(pool)
