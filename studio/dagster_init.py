"""`studio dagster-init`: the Dagster home, its storage schema and pools, set up once per studio home.

Several processes may start at the same moment on a fresh home (`make webserver`, `make daemon` and
`make serve` in three terminals each run it): an exclusive file lock makes them take turns, so only
the first creates Dagster's tables and pool slots and the others find them there.

Run again, it moves a dagster.yaml it wrote to the storage it writes today, and brings the `gpu` pool
to the settings (one slot per ComfyUI server, DESIGN §2): the limit stored in the instance and the
dagster.yaml default together. It says what it changed.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Callable

from studio.settings import Settings


def initialize_dagster_home(settings: Settings, say: Callable[[str], None] = print) -> Path:
    import dagster as dg

    from studio.dagster_home import (ensure_dagster_home, initialize_pools, keep_storage_current,
                                     settings_gpu_limit, store_gpu_limit, write_default_limit)
    from studio.domain.gpu_pool import why_limit

    settings.home.mkdir(parents=True, exist_ok=True)
    limit = settings_gpu_limit(settings)
    with open(settings.home / ".dagster-init.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        home = ensure_dagster_home(settings)
        storage = keep_storage_current(home / "dagster.yaml")
        with dg.DagsterInstance.get() as instance:
            instance.upgrade()
            initialize_pools(instance)
            stored = store_gpu_limit(instance, limit)
        # The stored limit first: it is explicit then, so a step claiming a slot in between never meets a
        # new default next to a row from the old one (Dagster's re-sync of that fails on PostgreSQL).
        default = write_default_limit(home / "dagster.yaml", limit)
    if storage:
        say(storage)
    if stored:
        say(f"{stored} ({why_limit(settings.backend, len(settings.comfyui_urls))})")
    if default:
        say(default)
    return home
