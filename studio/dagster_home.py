"""The development DAGSTER_HOME: a folder under the studio home holding the repo's dagster.yaml."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1] / "dagster.yaml"


def ensure_dagster_home(studio_home: Path) -> Path:
    """Use $DAGSTER_HOME if set; else create <studio home>/dagster from the template and point to it."""
    if os.environ.get("DAGSTER_HOME"):
        return Path(os.environ["DAGSTER_HOME"])
    home = studio_home / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not target.exists():
        tmp = home / ".dagster.yaml.tmp"
        shutil.copyfile(TEMPLATE, tmp)
        os.replace(tmp, target)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


# Every pool our assets declare. Dagster creates a pool's slots lazily on first use, and two runs
# starting at once on a fresh instance can both create them (two slots for a limit of one): so the
# slots are created once here, when the home is set up, before several processes start.
POOLS = ("gpu",)


def initialize_pools(instance) -> None:
    for pool in POOLS:
        instance.event_log_storage.initialize_concurrency_limit_to_default(pool)
