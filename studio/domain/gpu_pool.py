"""Whether the Dagster pool `gpu` fits the ComfyUI servers, said as a person can fix it. Pure: no I/O.

Every GPU asset declares `pool="gpu"` and jobs go to the least busy ComfyUI server, so the pool's
limit must be the number of servers (DESIGN §2): above it two GPU steps share one GPU, below it a
GPU idles. The limit a run gets is not simply dagster.yaml's `concurrency.pools.default_limit`:

- A pool first stored from the default limit is a row marked "from default", which Dagster re-syncs
  to a changed default when a step claims a slot. On PostgreSQL that re-sync fails in Dagster 1.13
  (its INSERT hits the unique key and the UPDATE runs in the aborted transaction), so a default
  edited after the pool was stored makes GPU steps fail at their claim.
- `dagster instance concurrency set gpu N` stores an explicit limit, which the default no longer
  touches: that row is the limit. `studio dagster-init` does the same whenever the stored row is not
  the settings' limit (`must_store`), and keeps a dagster.yaml it wrote at that default.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping
from urllib.parse import quote, urlencode

POOL = "gpu"


@dataclass(frozen=True)
class StoredLimit:
    limit: int
    from_default: bool


@dataclass(frozen=True)
class InstancePool:
    home: Path  # DAGSTER_HOME
    storage: str  # storage_kind: "postgres", "dagster-postgres", "sqlite" or "other"
    default_limit: int | None  # concurrency.pools.default_limit; None: pools without a row have no limit
    stored: StoredLimit | None  # the pool's row in the instance's storage; None: not set up yet

    @property
    def config(self) -> Path:
        return self.home / "dagster.yaml"


# The storage whose pool claims are made one at a time (studio/dagster_storage.py), as dagster.yaml
# names it; the dev home and both deploy files use it.
SERIAL_STORAGE = {"module": "studio.dagster_storage", "class": "StudioPostgresStorage"}
SERIAL_EVENT_LOG = "PoolSerializedEventLogStorage"


def storage_config(postgres_url) -> dict:
    """dagster.yaml's `storage:` for Dagster's tables in PostgreSQL, pool claims one at a time."""
    return {"custom": {**SERIAL_STORAGE, "config": {"postgres_url": postgres_url}}}


def storage_kind(config: dict) -> str:
    """Where a dagster.yaml keeps runs and pools: "postgres" (our serial claims), "dagster-postgres"
    (Dagster's own, whose claims can race), "sqlite" (also Dagster's default: no storage key) or "other"."""
    storage = config.get("storage")
    if isinstance(storage, dict) and storage:
        kind, value = next(iter(storage.items()))
        if kind == "custom" and isinstance(value, dict):
            return "postgres" if {k: value.get(k) for k in SERIAL_STORAGE} == SERIAL_STORAGE else "other"
        return {"postgres": "dagster-postgres", "sqlite": "sqlite"}.get(kind, "other")
    event_log = str((config.get("event_log_storage") or {}).get("class", ""))
    if event_log == SERIAL_EVENT_LOG:
        return "postgres"
    if "postgres" in event_log.lower():
        return "dagster-postgres"
    return "other" if event_log and "sqlite" not in event_log.lower() else "sqlite"


def _setting(value, environ: Mapping[str, str]) -> str:
    if isinstance(value, dict) and "env" in value:  # Dagster's {env: NAME}
        if not environ.get(value["env"]):
            raise LookupError(f"{value['env']} is not set, and the instance's storage URL comes from it")
        return environ[value["env"]]
    return str(value)


def storage_dsn(config: dict, environ: Mapping[str, str]) -> str | None:
    """The PostgreSQL URL a dagster.yaml's storage resolves to, as libpq takes it (no +driver);
    None when it names none. Raises LookupError for an {env: NAME} that is not set."""
    storage = config.get("storage") or {}
    postgres = storage.get("postgres") or (storage.get("custom") or {}).get("config")
    if postgres is None:
        postgres = (config.get("event_log_storage") or {}).get("config")
    if not isinstance(postgres, dict):
        return None
    if postgres.get("postgres_url"):
        url = _setting(postgres["postgres_url"], environ)
    elif isinstance(postgres.get("postgres_db"), dict):
        # The URL dagster_postgres builds from the parts (its get_conn_string).
        parts = {key: _setting(value, environ) for key, value in postgres["postgres_db"].items() if key != "params"}
        user = quote(parts["username"]) + (f":{quote(parts['password'])}" if parts.get("password") else "")
        url = f"postgresql://{user}@{parts.get('hostname', '')}:{parts.get('port', '5432')}/{parts.get('db_name', '')}"
        if postgres["postgres_db"].get("params"):
            url += "?" + urlencode(postgres["postgres_db"]["params"], quote_via=quote)
    else:
        return None
    scheme, sep, rest = url.partition("://")
    return scheme.split("+")[0] + sep + rest


def default_limit_of(config: dict) -> int | None:
    pools = (config.get("concurrency") or {}).get("pools") or {}
    limit = pools.get("default_limit")
    return limit if isinstance(limit, int) and not isinstance(limit, bool) else None


def _effect(limit: int, servers: int) -> str:
    if limit > servers:
        return f"{limit} GPU steps can run at once on {servers} GPU(s), so two share one GPU"
    idle = servers - limit
    return f"{idle} of the {servers} GPU(s) stay idle" if limit else "no GPU step can start"


def pool_lines(pool: InstancePool, servers: int) -> list[tuple[bool, str]]:
    """(ok, text) lines for the pool of `pool` against `servers` ComfyUI servers (STUDIO_COMFYUI_URLS)."""
    if pool.storage == "sqlite":
        return [(False, f"the Dagster instance in {pool.home} keeps its pools in SQLite, where two runs can take the "
                        "same GPU slot: give it PostgreSQL storage (a new DAGSTER_HOME set up by `studio dagster-init`, "
                        "or deploy/dagster.postgres.yaml)")]
    if pool.storage == "dagster-postgres":
        storage = [(False, f"the Dagster instance in {pool.home} keeps its pools in Dagster's own PostgreSQL storage, "
                           "where GPU steps of two runs that claim at the same moment can share one slot: name "
                           f"`storage: custom: module: {SERIAL_STORAGE['module']}, class: {SERIAL_STORAGE['class']}` "
                           f"with the same config in {pool.config} (as deploy/dagster.postgres.yaml does)")]
        return storage + pool_lines(replace(pool, storage="postgres"), servers)
    urls = f"STUDIO_COMFYUI_URLS lists {servers} ComfyUI server(s)"
    set_stored = f"run `DAGSTER_HOME={pool.home} dagster instance concurrency set {POOL} {servers}`"
    set_default = f"set concurrency.pools.default_limit: {servers} in {pool.config}"
    stored, default = pool.stored, pool.default_limit
    if stored is None:
        if default is None:
            return [(False, f"the {POOL} pool has no limit ({pool.config} sets no concurrency.pools.default_limit), "
                            f"so every GPU step runs at once: {set_default}, then run `studio dagster-init`")]
        if default != servers:
            return [(False, f"the {POOL} pool limit is {default} (concurrency.pools.default_limit in {pool.config}) "
                            f"but {urls}: {_effect(default, servers)}; {set_default}, then run `studio dagster-init`")]
        return [(False, f"the {POOL} pool is not set up in the Dagster instance in {pool.home} yet (two runs starting "
                        "at once could each create its slots): run `studio dagster-init`")]
    stale_default = default != servers
    if stored.from_default and default is None:
        return [(False, f"the {POOL} pool stores limit {stored.limit} from a default that {pool.config} no longer "
                        f"sets, so the next GPU step drops it and the pool has no limit: {set_stored} and "
                        f"{set_default}")]
    if stored.from_default and stored.limit != default:
        fix = set_stored + (f" and {set_default}" if stale_default else "")
        return [(False, f"the {POOL} pool stores limit {stored.limit} but concurrency.pools.default_limit in "
                        f"{pool.config} is {default}; Dagster cannot re-sync a stored default on PostgreSQL, so GPU "
                        f"steps fail when they claim a slot: {fix}")]
    if stored.limit != servers:
        where = f"concurrency.pools.default_limit in {pool.config}" if stored.from_default else \
            "stored in the Dagster instance"
        # Editing the default alone would leave a stored default behind, which Dagster cannot re-sync.
        fix = set_stored + (f" and {set_default} (new instances start from it)" if stale_default else "")
        return [(False, f"the {POOL} pool limit is {stored.limit} ({where}) but {urls}: "
                        f"{_effect(stored.limit, servers)}; {fix}")]
    is_default = f"is {default}" if default is not None else "is not set"
    note = (f"; concurrency.pools.default_limit in {pool.config} {is_default}: new instances start from it, so "
            f"{set_default} too") if stale_default else ""
    return [(True, f"the {POOL} pool limit is {servers}, one slot per ComfyUI server{note}")]


def gpu_limit(backend: str, servers: int) -> int:
    """The limit `studio dagster-init` gives the pool: one slot per ComfyUI server on the live backend.
    The preview backend's stand-ins never reach a server, so STUDIO_COMFYUI_URLS says nothing about them;
    they keep one slot, one GPU step at a time, as the demo and the tests expect whatever the URLs say."""
    return servers if backend == "live" else 1


def why_limit(backend: str, servers: int) -> str:
    if backend == "live":
        return f"STUDIO_COMFYUI_URLS lists {servers} ComfyUI server(s)"
    return "the preview backend runs one GPU step at a time"


def must_store(stored: StoredLimit | None, default: int | None, limit: int) -> bool:
    """Whether the pool's limit must be stored explicitly (`dagster instance concurrency set`): when the
    row is not `limit`, and when it is but only from a default other than `limit`, which Dagster would
    try to re-sync at the next claim and fail on PostgreSQL. An explicit row no default touches."""
    if stored is None:
        return default != limit
    return stored.limit != limit or (stored.from_default and default != limit)
