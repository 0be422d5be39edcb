"""The development DAGSTER_HOME: Dagster's storage in the embedded PostgreSQL, the gpu pool's limit
from the settings (one slot per ComfyUI server).

Dagster's slot claim is a SELECT then an UPDATE, each committed on its own, so two run processes (the
daemon launches each run in its own) claiming at the same moment could both take the one GPU slot.
SQLite cannot prevent that; the dev home keeps Dagster's runs and events in a `dagster` database of the
embedded server, through the storage that makes claims one at a time (studio/dagster_storage.py), as
production does on its own server (deploy/dagster.postgres.yaml). A dagster.yaml already in
$DAGSTER_HOME that this code did not write is used as it is; only the limit stored in its instance
follows the settings.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import yaml

from studio.settings import Settings
from studio.db.embedded import ensure_database, start_embedded_server
from studio.domain.gpu_pool import (POOL, SERIAL_STORAGE, StoredLimit, default_limit_of, gpu_limit, must_store,
                                   storage_config)
from studio.uploads import write_atomically

# Pools, run queue and telemetry: what every dev instance shares; storage is added per studio home.
TEMPLATE = Path(__file__).resolve().parents[1] / "dagster.yaml"
DAGSTER_DB = "dagster"
# The first line of a dagster.yaml this code wrote: only such a file is rewritten when the pool changes;
# one brought by a person or an image (deploy/dagster.yaml) is theirs.
HEADER = "# Written by `studio dagster-init` from the repo's dagster.yaml."


def embedded_storage_url(pg_dir: Path) -> str:
    # dagster-postgres needs psycopg2 spelled out (SQLAlchemy 2.1 would pick psycopg 3); no password
    # on the embedded server's Unix socket, so nothing secret lands in the file.
    return f"postgresql+psycopg2://postgres@/{DAGSTER_DB}?host={pg_dir.resolve()}"


def settings_gpu_limit(settings: Settings) -> int:
    return gpu_limit(settings.backend, len(settings.comfyui_urls))


def _with_default_limit(config: dict, limit: int) -> dict:
    config.setdefault("concurrency", {}).setdefault("pools", {})["default_limit"] = limit
    return config


def dev_instance_yaml(pg_dir: Path, limit: int) -> str:
    config = _with_default_limit(yaml.safe_load(TEMPLATE.read_text()), limit)
    config["storage"] = storage_config(embedded_storage_url(pg_dir))
    return HEADER + "\n" + yaml.safe_dump(config, sort_keys=False)


def _write_own(config: Path, loaded: dict) -> None:
    write_atomically(config, (HEADER + "\n" + yaml.safe_dump(loaded, sort_keys=False)).encode())


def keep_storage_current(config: Path) -> str | None:
    """A dagster.yaml this code wrote before the pool claims were made one at a time names Dagster's own
    PostgreSQL storage: give it the same database through ours. Another's file is left alone (the
    doctor names it). What changed, or None."""
    text = config.read_text()
    loaded = yaml.safe_load(text) or {}
    stock = (loaded.get("storage") or {}).get("postgres")
    if not text.startswith(HEADER) or not isinstance(stock, dict) or "postgres_url" not in stock:
        return None
    _write_own(config, {**loaded, "storage": storage_config(stock["postgres_url"])})
    return f"storage in {config}: Dagster's own PostgreSQL storage -> {SERIAL_STORAGE['class']} (same database)"


def dagster_home_dir(settings: Settings) -> Path:
    """$DAGSTER_HOME, or where `studio dagster-init` puts the instance without it."""
    return Path(os.environ.get("DAGSTER_HOME") or settings.home / "dagster")


def ensure_dagster_home(settings: Settings) -> Path:
    """$DAGSTER_HOME (default <studio home>/dagster) with a dagster.yaml, its database running."""
    home = dagster_home_dir(settings)
    config = home / "dagster.yaml"
    if not config.exists():
        write_atomically(config, dev_instance_yaml(settings.embedded_pg_dir, settings_gpu_limit(settings)).encode())
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


def store_gpu_limit(instance, limit: int) -> str | None:
    """Store `limit` as the gpu pool's limit through Dagster (`dagster instance concurrency set`) when
    the instance's row is another or rests on a default other than it; what changed, or None."""
    storage = instance.event_log_storage
    row = next((p for p in storage.get_pool_limits() if p.name == POOL), None)
    stored = StoredLimit(row.limit, row.from_default) if row else None
    if not must_store(stored, instance.global_op_concurrency_default_limit, limit):
        return None
    storage.set_concurrency_slots(POOL, limit)
    was = f"{stored.limit}{' (from the default)' if stored.from_default else ''}" if stored else "not stored"
    return f"{POOL} pool limit in the Dagster instance: {was} -> {limit}"


def write_default_limit(config: Path, limit: int) -> str | None:
    """Keep concurrency.pools.default_limit of a dagster.yaml this code wrote equal to `limit`, so new
    pools start where the stored one is; another's file is left alone and said so when it differs."""
    text = config.read_text()
    loaded = yaml.safe_load(text) or {}
    default = default_limit_of(loaded)
    if default == limit:
        return None
    if not text.startswith(HEADER):
        return (f"note: concurrency.pools.default_limit in {config} is {default}, not {limit}; the file was not "
                "written by `studio dagster-init` and is left as it is (new instances start from it)")
    _write_own(config, _with_default_limit(loaded, limit))
    return f"concurrency.pools.default_limit in {config}: {default} -> {limit}"
