"""dagster-daemon SIGKILLed while a GPU run it launched is running, and started again: the queued runs
proceed, nothing is launched twice, and every run ends in a terminal state.

A real daemon (sensors, the queued run coordinator, the default run launcher) on a Dagster instance
with its storage in the test's PostgreSQL and the one `gpu` slot; the code location is
tests/faults/daemon_location.py, whose sensor asks every tick for the same three GPU runs under stable
run keys. The preview backends are slowed (STUDIO_PREVIEW_DELAY_S) so the kill lands inside a run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import FINISHED_STATUSES

from studio.dagster_home import initialize_pools
from tests.dagster_pg_home import dagster_home, holding_runs, wait_for
from tests.faults.daemon_location import WANTED
from tests.service_processes import REPO
from tests.training_seed import import_example, query

pytestmark = pytest.mark.fault

DAEMON = Path(sys.executable).with_name("dagster-daemon")
RUN_KEY_TAG = "dagster/run_key"


def start_daemon(env: dict, log: Path) -> subprocess.Popen:
    # Its own process group: the code server and run workers it starts are ended with it at clean-up.
    with log.open("ab") as out:
        return subprocess.Popen([str(DAEMON), "run", "-m", "tests.faults.daemon_location"], cwd=REPO, env=env,
                                start_new_session=True, stdout=out, stderr=subprocess.STDOUT)


def our_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    return [run for run in instance.get_runs() if RUN_KEY_TAG in run.tags]


def run_worker_pids(instance: dg.DagsterInstance, run_id: str) -> set[int]:
    """The processes that wrote the run's step events: its run worker (the jobs run steps in process)."""
    return {e.dagster_event.pid for e in instance.all_logs(run_id)
            if e.dagster_event is not None and e.dagster_event.pid and e.dagster_event.event_type_value == "STEP_START"}


# What each run key makes: the asset partition that has one materialization when the run succeeded.
MAKES = {"fault-batch-mika": ("dataset_images", "mika"), "fault-batch-ember": ("dataset_images", "ember"),
         "fault-shots-lamp-goes-out": ("shot_clips", "lamp-goes-out")}


@pytest.mark.timeout(300)
def test_a_daemon_killed_mid_run_and_restarted_launches_each_queued_run_once(studio_env, db_url, pg_server_url,
                                                                            tmp_path, monkeypatch):
    """Then, with the new daemon, the worker of the next GPU run is SIGKILLed mid-step: it is failed (the code
    server that started it reports the signal), the dead-run sensor frees its slot, the last queued run
    proceeds, and the killed run is not launched again."""
    home = dagster_home(tmp_path, pg_server_url)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    import_example(studio_env)
    env = {**os.environ, "STUDIO_PREVIEW_DELAY_S": "1"}
    log = tmp_path / "daemon.log"
    daemons = []
    with dg.DagsterInstance.get() as instance:
        initialize_pools(instance)
        instance.add_dynamic_partitions("character", ["mika", "ember"])
        instance.add_dynamic_partitions("scene", ["lamp-goes-out"])

        def holder(other_than: set[str] = frozenset()) -> dg.DagsterRun | None:
            return next((r for r in our_runs(instance) if r.run_id in holding_runs(instance) - other_than), None)

        started = time.monotonic()
        try:
            daemons.append(start_daemon(env, log))
            assert wait_for(holder, 120, step_s=0.5), f"no run took the gpu slot:\n{log.read_text()[-3000:]}"
            first = holder()
            daemons[0].send_signal(signal.SIGKILL)
            daemons[0].wait()
            killed_after = time.monotonic() - started
            at_kill = Counter(r.status.value for r in our_runs(instance))
            # Runs the dead daemon had not launched yet: queued, or not even asked for by the sensor.
            assert at_kill["QUEUED"] + len(WANTED) - at_kill.total() >= 1, at_kill
            daemons.append(start_daemon(env, log))

            # The next GPU run, once its step is under way: its worker is killed.
            assert wait_for(lambda: (run := holder({first.run_id})) and run_worker_pids(instance, run.run_id), 120,
                            step_s=0.2), f"no second run took the gpu slot:\n{log.read_text()[-3000:]}"
            second = holder({first.run_id})
            for pid in run_worker_pids(instance, second.run_id):
                os.kill(pid, signal.SIGKILL)
            worker_killed_at = time.monotonic()
            assert wait_for(lambda: holder({first.run_id, second.run_id}), 90, step_s=0.5), \
                f"the slot never came back:\n{log.read_text()[-3000:]}"
            recovery_s = time.monotonic() - worker_killed_at
            finished = wait_for(lambda: len(our_runs(instance)) == len(WANTED) and all(
                r.status in FINISHED_STATUSES for r in our_runs(instance)), 120, step_s=1.0)
            runs = our_runs(instance)
            assert finished, f"runs not finished: {[(r.tags[RUN_KEY_TAG], r.status.value) for r in runs]}\n" \
                             f"{log.read_text()[-3000:]}"
        finally:
            for daemon in daemons:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(daemon.pid, signal.SIGKILL)
                daemon.wait(10)
        print(f"daemon killed {killed_after:.1f} s after its start, runs then: {dict(at_kill)}; a run worker killed "
              f"then, slot back after {recovery_s:.1f} s; all done {time.monotonic() - started:.1f} s after the start")
        assert Counter(r.tags[RUN_KEY_TAG] for r in runs) == Counter(key for key, *_ in WANTED), "a run key ran twice"
        statuses = {r.run_id: r.status for r in runs}
        assert statuses.pop(second.run_id) == dg.DagsterRunStatus.FAILURE
        assert list(statuses.values()) == [dg.DagsterRunStatus.SUCCESS] * 2, statuses
        # The code server that started the worker reports its death; the dead-run sensor frees the slot.
        assert any("SIGKILL" in (e.message or "") for e in instance.all_logs(second.run_id)), "not failed as killed"
        assert recovery_s < 120
        assert all(r.status in FINISHED_STATUSES for r in instance.get_runs())
        for run in runs:
            asset, partition = MAKES[run.tags[RUN_KEY_TAG]]
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=10).records
            assert len(records) == (0 if run.run_id == second.run_id else 1), f"{asset} {partition}: {len(records)}"
        assert instance.event_log_storage.get_concurrency_info("gpu").claimed_slots == []
    images = {r["slug"]: r for r in query(
        db_url, "SELECT c.slug, count(*) AS n, count(DISTINCT i.sha256) AS distinct_files FROM images i "
                "JOIN characters c ON c.id = i.character_id GROUP BY c.slug")}
    for key, (asset, partition) in MAKES.items():
        if asset == "dataset_images":
            made = images.get(partition, {"n": 0, "distinct_files": 0})
            assert made["n"] == made["distinct_files"], f"{partition}: an image registered twice"
            assert made["n"] == 3 or key == second.tags[RUN_KEY_TAG], f"{partition}: {made['n']} images"
