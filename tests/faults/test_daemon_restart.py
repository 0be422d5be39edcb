"""dagster-daemon SIGKILLed while a GPU run it launched is running, and started again: the queued runs
proceed, nothing is launched twice, and every run ends in a terminal state.

A real daemon (sensors, the queued run coordinator, the default run launcher) on a Dagster instance
with its storage in the test's PostgreSQL and the one `gpu` slot; the code location is
tests/faults/daemon_location.py, whose sensor asks every tick for the same three GPU runs under stable
run keys. The preview backends are slowed (STUDIO_PREVIEW_DELAY_S) so the kill lands inside a run.
"""

from __future__ import annotations

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


@pytest.mark.timeout(240)
def test_a_daemon_killed_mid_run_and_restarted_launches_each_queued_run_once(studio_env, db_url, pg_server_url,
                                                                            tmp_path, monkeypatch):
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
        started = time.monotonic()
        try:
            daemons.append(start_daemon(env, log))
            running = wait_for(lambda: any(r.run_id in holding_runs(instance) for r in our_runs(instance)), 120,
                               step_s=0.5)
            assert running, f"no run took the gpu slot:\n{log.read_text()[-3000:]}"
            daemons[0].send_signal(signal.SIGKILL)
            daemons[0].wait()
            killed_after = time.monotonic() - started
            at_kill = Counter(r.status.value for r in our_runs(instance))
            # Runs the dead daemon had not launched yet: queued, or not even asked for by the sensor.
            assert at_kill["QUEUED"] + len(WANTED) - at_kill.total() >= 1, at_kill
            daemons.append(start_daemon(env, log))
            finished = wait_for(lambda: len(our_runs(instance)) == len(WANTED) and all(
                r.status in FINISHED_STATUSES for r in our_runs(instance)), 150, step_s=1.0)
            runs = our_runs(instance)
            assert finished, f"runs not finished: {[(r.tags[RUN_KEY_TAG], r.status.value) for r in runs]}\n" \
                             f"{log.read_text()[-3000:]}"
        finally:
            for daemon in daemons:
                try:
                    os.killpg(daemon.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                daemon.wait(10)
        print(f"daemon killed {killed_after:.1f} s after its start, runs then: {dict(at_kill)}; all runs done "
              f"{time.monotonic() - started - killed_after:.1f} s after the kill")
        assert Counter(r.tags[RUN_KEY_TAG] for r in runs) == Counter(key for key, *_ in WANTED)
        assert [r.status for r in runs] == [dg.DagsterRunStatus.SUCCESS] * len(WANTED), \
            [(r.tags[RUN_KEY_TAG], r.status.value) for r in runs]
        assert all(r.status in FINISHED_STATUSES for r in instance.get_runs())
        for asset, partition in [("dataset_images", "mika"), ("dataset_images", "ember"),
                                 ("shot_clips", "lamp-goes-out")]:
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=10).records
            assert len(records) == 1, f"{asset} {partition}: {len(records)} materializations"
        assert instance.event_log_storage.get_concurrency_info("gpu").claimed_slots == []
    images = query(db_url, "SELECT c.slug, count(*) AS n, count(DISTINCT i.sha256) AS distinct_files FROM images i "
                           "JOIN characters c ON c.id = i.character_id GROUP BY c.slug ORDER BY c.slug")
    assert images == [{"slug": "ember", "n": 3, "distinct_files": 3}, {"slug": "mika", "n": 3, "distinct_files": 3}]
    assert query(db_url, "SELECT count(*) AS n FROM shots WHERE status <> 'rendered'") == [{"n": 0}]
