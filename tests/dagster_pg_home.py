"""A Dagster instance as the dev home has it, for tests that run real run processes against it:
storage in PostgreSQL (pools need it), the repo's dagster.yaml for pools and run monitoring."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import yaml

from studio.dagster_home import TEMPLATE
from studio.db.embedded import ensure_database
from studio.domain.gpu_pool import storage_config


def dagster_home(tmp_path: Path, server_url: str) -> Path:
    """A DAGSTER_HOME like `studio dagster-init` writes, on a fresh database of the test server."""
    name = f"dagster_{uuid.uuid4().hex[:8]}"
    asyncio.run(ensure_database(server_url, name))
    host = server_url.partition("host=")[2]
    config = yaml.safe_load(TEMPLATE.read_text())
    config["storage"] = storage_config(f"postgresql+psycopg2://postgres@/{name}?host={host}")
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return home


def wait_for(condition, timeout_s: float, step_s: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step_s)
    return False


def waiting_runs(instance) -> set[str]:
    """Runs with a step waiting for the `gpu` slot."""
    return {step.run_id for step in instance.event_log_storage.get_concurrency_info("gpu").pending_steps}


def holding_runs(instance) -> set[str]:
    """Runs with a step holding the `gpu` slot."""
    return {slot.run_id for slot in instance.event_log_storage.get_concurrency_info("gpu").claimed_slots
            if slot.run_id}
