"""Killing a GPU run mid-step on a real instance, and running it again: the shared harness.

A run is an OS process (tests/faults/gpu_run_worker.py, in-process `dg.materialize`) on a Dagster
instance with storage in the test's PostgreSQL and the one `gpu` slot; the preview backends are slowed
by STUDIO_PREVIEW_DELAY_S so the kill lands inside the step. The re-run is started while the first run
holds the slot, so it waits in the pool as the next GPU run would; the dead-run sensor's reaper is
called every second (the daemon calls it every ten) until the re-run has the slot.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from PIL import Image

from sensors.dead_run_sensor import reap_dead_runs
from studio.media.clips import media_info
from studio.training.lora_file import inspect_lora
from tests.dagster_pg_home import holding_runs, wait_for, waiting_runs
from tests.faults.gpu_run_worker import ROLE_TAG
from tests.service_processes import REPO, processes_mentioning

START_TIMEOUT_S = 60
RERUN_TIMEOUT_S = 90


@dataclass
class KilledRun:
    """What one kill-and-rerun left: the run records, the recovery time, the processes that survived."""
    killed: dg.DagsterRun
    rerun: dg.DagsterRun
    slot_recovery_s: float
    survivors: set[int] = field(default_factory=set)


def start_run(asset: str, partition: str, role: str, run_config: dict, env: dict, logs: Path,
              go_file: Path | None = None) -> subprocess.Popen:
    # Its own process group: whatever it starts (Pipes launcher, ffmpeg) is ended with it at clean-up.
    with (logs / f"{role}.log").open("wb") as log:
        return subprocess.Popen([sys.executable, "-m", "tests.faults.gpu_run_worker", asset, partition, role,
                                 json.dumps(run_config), str(go_file or "")], cwd=REPO, env=env,
                                start_new_session=True, stdout=log, stderr=subprocess.STDOUT)


def run_with_role(instance: dg.DagsterInstance, role: str) -> dg.DagsterRun | None:
    runs = instance.get_runs(dg.RunsFilter(tags={ROLE_TAG: role}))
    return runs[0] if runs else None


def _end(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def kill_mid_step_and_rerun(instance: dg.DagsterInstance, env: dict, asset: str, partition: str, run_config: dict,
                            mid_step, logs: Path, on_killed=lambda: None) -> KilledRun:
    """Start a run of `asset`, SIGKILL it once `mid_step(run_id)` holds while the re-run waits for the slot,
    call `on_killed()` (to see the state the kill left), free the slot as the sensor does, and wait for the
    re-run to finish. The runs' output goes to `logs`/killed.log and rerun.log."""
    holder = start_run(asset, partition, "killed", run_config, env, logs)
    killed_id = None
    # The re-run imports meanwhile, and asks for the slot only once the first run holds it.
    go = logs / "rerun.go"
    rerun_process = start_run(asset, partition, "rerun", run_config, {**env, "STUDIO_PREVIEW_DELAY_S": "0"}, logs, go)
    try:
        assert wait_for(lambda: (run := run_with_role(instance, "killed")) and run.run_id in holding_runs(instance),
                        START_TIMEOUT_S), "the first run never took the gpu slot"
        killed_id = run_with_role(instance, "killed").run_id
        go.touch()

        def rerun_waits() -> bool:
            run = run_with_role(instance, "rerun")
            return run is not None and run.run_id in waiting_runs(instance)

        assert wait_for(lambda: holder.poll() is not None or (rerun_waits() and mid_step(killed_id)),
                        START_TIMEOUT_S, step_s=0.1), "the re-run never queued, or the kill never came mid-step"
        assert holder.poll() is None, "the first run finished before it could be killed mid-step:\n" + \
            (logs / "killed.log").read_text()[-3000:]
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        killed_at, killed_wall = time.monotonic(), time.time()
        # The run's own helpers (a Pipes launcher and its trainer) must not go on without it.
        wait_for(lambda: not processes_mentioning(killed_id), 5)
        survivors = processes_mentioning(killed_id)
        on_killed()
        rerun_id = run_with_role(instance, "rerun").run_id
        recovered_at = None
        deadline = time.monotonic() + RERUN_TIMEOUT_S
        while time.monotonic() < deadline and rerun_process.poll() is None:
            reap_dead_runs(instance)
            if recovered_at is None and (rerun_id in holding_runs(instance) or rerun_id not in waiting_runs(instance)):
                recovered_at = time.monotonic()
            time.sleep(1.0 if recovered_at is None else 0.2)
        assert rerun_process.poll() is not None, "the re-run did not finish"
        if recovered_at is None:  # a fast re-run can take the slot and finish between two looks: its step says when
            started = instance.all_logs(rerun_id, of_type=dg.DagsterEventType.STEP_START)
            if started:
                recovered_at = killed_at + (started[0].timestamp - killed_wall)
        assert recovered_at is not None, "the re-run never got the gpu slot"
        return KilledRun(killed=instance.get_run_by_id(killed_id), rerun=instance.get_run_by_id(rerun_id),
                         slot_recovery_s=recovered_at - killed_at, survivors=survivors)
    finally:
        _end(holder)
        _end(rerun_process)
        # What the killed run started in a session of its own (a trainer) and that outlived it.
        for pid in processes_mentioning(killed_id) if killed_id else ():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def unreadable_files(media_root: Path) -> list[str]:
    """Files under a final name (not a dot-named temporary) that do not read back whole."""
    bad = []
    for path in media_root.rglob("*"):
        if not path.is_file() or path.name.startswith("."):
            continue
        try:
            if path.suffix == ".png":
                with Image.open(path) as image:
                    image.load()
            elif path.suffix == ".mp4":
                if media_info(path).video is None:
                    raise ValueError("no video stream")
            elif path.suffix == ".safetensors":
                inspect_lora(path)
        except Exception as exc:  # whatever the reader says, the file is not whole
            bad.append(f"{path.relative_to(media_root)}: {exc}")
    return bad


def temporary_files(media_root: Path) -> list[str]:
    """Dot-named temporaries (a write interrupted before its rename) and training temp folders."""
    return sorted(str(p.relative_to(media_root)) for p in media_root.rglob(".*"))
