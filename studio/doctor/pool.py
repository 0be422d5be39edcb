"""`studio doctor`'s look at the Dagster pool `gpu`: the limit the instance in DAGSTER_HOME has.

dagster.yaml alone does not say it: the limit a run gets is the pool's row in the instance's storage
(studio/domain/gpu_pool.py says why). That row is read with one query, not through Dagster: opening a
DagsterInstance costs the doctor 2-4 s of imports, retries a database that is away for ~6 s, and would
create its tables in an empty database. The table is Dagster's `concurrency_limits` (dagster==1.13.27
is pinned); tests/test_doctor_pool.py reads instances that Dagster itself set up and changed.
"""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg
import yaml

from studio.domain.gpu_pool import POOL, InstancePool, StoredLimit, default_limit_of, storage_dsn, storage_kind

_STORED = 'SELECT "limit", using_default_limit FROM concurrency_limits WHERE concurrency_key = $1'


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


async def read_gpu_pool(home: Path) -> InstancePool | str:
    """The pool as the instance in `home` has it, or the line saying why it could not be read."""
    config_path = home / "dagster.yaml"
    if not config_path.is_file():
        return (f"no Dagster instance in {home} (no dagster.yaml): run `studio dagster-init`, or point DAGSTER_HOME "
                "at the instance the daemon uses")
    try:
        config = yaml.safe_load(config_path.read_text()) or {}
        if not isinstance(config, dict):
            raise ValueError("not a mapping")
    except (OSError, ValueError, yaml.YAMLError) as error:
        return (f"{config_path} cannot be read ({_first_line(error)}): fix it, or move it away and run "
                "`studio dagster-init`")
    kind, default = storage_kind(config), default_limit_of(config)
    if kind == "sqlite":
        return InstancePool(home, kind, default, None)
    cannot = f"the {POOL} pool of the Dagster instance in {home} cannot be read"
    try:
        dsn = storage_dsn(config, os.environ)
        if dsn is None:
            return (f"{cannot}: {config_path} names no PostgreSQL storage (check it by hand: "
                    f"`DAGSTER_HOME={home} dagster instance concurrency get {POOL}`)")
        conn = await asyncpg.connect(dsn, timeout=5)
        try:
            row = await conn.fetchrow(_STORED, POOL)
        finally:
            await conn.close()
    except asyncpg.UndefinedTableError:
        return f"{cannot}: its database has no Dagster tables yet: run `studio dagster-init`"
    except (LookupError, OSError, ValueError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        return (f"{cannot} ({_first_line(error)}): start its database (`studio up` starts the embedded one; "
                "production: check DAGSTER_PG_URL), or set the instance up with `studio dagster-init`")
    return InstancePool(home, kind, default, StoredLimit(row["limit"], row["using_default_limit"]) if row else None)
