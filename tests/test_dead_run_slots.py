"""A run killed while it holds the one `gpu` slot gives it back, and is marked failed.

Real run processes (in-process `dg.materialize`, each its own OS process) on a real Dagster instance
with pools on PostgreSQL, configured like the dev instance (dagster.yaml). The dead-run sensor's
reaper runs as the daemon would run it, here every second instead of every ten.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml

from sensors.dead_run_sensor import dead_run_sensor, reap_dead_runs
from studio.dagster_home import TEMPLATE, initialize_pools
from tests.dagster_pg_home import dagster_home, wait_for, waiting_runs

REPO = Path(__file__).resolve().parents[1]


def start_worker(home: Path, marker: Path, hold_s: float) -> subprocess.Popen:
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "tests.dagster_gpu_worker", str(marker), str(hold_s)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
def instance(tmp_path, pg_server_url, monkeypatch):
    home = dagster_home(tmp_path, pg_server_url)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        initialize_pools(instance)
        yield home, instance


def test_the_dev_and_production_instances_monitor_runs():
    for config in (TEMPLATE, REPO / "deploy" / "dagster.postgres.yaml"):
        monitoring = yaml.safe_load(config.read_text())["run_monitoring"]
        assert monitoring["enabled"] is True and 0 < monitoring["free_slots_after_run_end_seconds"] <= 60


def test_a_killed_gpu_run_frees_the_slot_and_the_next_gpu_run_starts(instance, tmp_path):
    home, instance = instance
    holder = start_worker(home, tmp_path / "a", 600)
    waiter = None
    try:
        assert wait_for(lambda: (tmp_path / "a").exists(), 60), "the first run never got the slot"
        waiter = start_worker(home, tmp_path / "b", 0)
        assert wait_for(lambda: waiting_runs(instance), 60), "the second run never queued for the slot"
        assert not (tmp_path / "b").exists()
        assert reap_dead_runs(instance) == []  # alive: left alone
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        killed_at = time.time()
        assert wait_for(lambda: reap_dead_runs(instance) or (tmp_path / "b").exists(), 30, step_s=1.0)
        assert wait_for(lambda: (tmp_path / "b").exists(), 60), "the next GPU run never started"
        recovery_s = float((tmp_path / "b").read_text()) - killed_at
        print(f"slot_recovery_s={recovery_s:.2f}")
        assert waiter.wait(timeout=60) == 0
    finally:
        for process in (holder, waiter):
            if process is not None and process.poll() is None:
                process.kill()
    assert recovery_s < 120
    runs = instance.get_runs()
    statuses = sorted(run.status.value for run in runs)
    assert statuses == ["FAILURE", "SUCCESS"], statuses
    failed = next(run for run in runs if run.status == dg.DagsterRunStatus.FAILURE)
    assert instance.event_log_storage.get_concurrency_info("gpu").claimed_slots == []
    assert any("is gone" in (e.message or "") for e in instance.all_logs(failed.run_id))


def test_a_run_waiting_for_the_slot_answers_sigterm(instance, tmp_path):
    home, instance = instance
    holder = start_worker(home, tmp_path / "a", 600)
    waiter = None
    try:
        assert wait_for(lambda: (tmp_path / "a").exists(), 60)
        waiter = start_worker(home, tmp_path / "b", 0)
        assert wait_for(lambda: waiting_runs(instance), 60)
        waiter.send_signal(signal.SIGTERM)
        started = time.monotonic()
        waiter.wait(timeout=20)
        assert time.monotonic() - started < 20
    finally:
        for process in (holder, waiter):
            if process is not None and process.poll() is None:
                process.kill()


def test_the_sensor_is_quiet_when_nothing_is_dead(instance):
    _, instance = instance
    with dg.build_sensor_context(instance=instance) as context:
        result = dead_run_sensor(context)
    assert "alive" in result.skip_message
