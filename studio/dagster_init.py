"""`studio dagster-init`: the Dagster home, its storage schema and pools, set up once per studio home.

Several processes may start at the same moment on a fresh home (`make webserver`, `make daemon` and
`make serve` in three terminals each run it): an exclusive file lock makes them take turns, so only
the first creates Dagster's tables and pool slots and the others find them there.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

from studio.settings import Settings


def initialize_dagster_home(settings: Settings) -> Path:
    import dagster as dg

    from studio.dagster_home import ensure_dagster_home, initialize_pools

    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.home / ".dagster-init.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        home = ensure_dagster_home(settings)
        with dg.DagsterInstance.get() as instance:
            instance.upgrade()
            initialize_pools(instance)
    return home
