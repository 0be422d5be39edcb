"""Give back the pool slots of runs whose process died, and mark those runs failed.

With the DefaultRunLauncher Dagster's run monitoring cannot see a run worker crash (the launcher has
no worker health check), so a SIGKILLed run stays STARTED and keeps its `gpu` slot: every later GPU
step would wait forever. Run monitoring (dagster.yaml) frees slots of runs that ended; this sensor
handles the runs that never will: every run holding or waiting for a slot whose processes are all
gone (studio.domain.run_liveness) is reported failed and its slots and queued steps are freed.
"""

from __future__ import annotations

import dagster as dg
from dagster._core.storage.dagster_run import FINISHED_STATUSES

from studio.domain.run_liveness import orphaned
from studio.processes import process_started_at

REAP_INTERVAL_S = 10


def _first_event_by_pid(instance: dg.DagsterInstance, run_id: str) -> dict[int, float]:
    first: dict[int, float] = {}
    for record in instance.all_logs(run_id):
        pid = record.dagster_event.pid if record.dagster_event is not None else None
        if pid:
            first.setdefault(pid, record.timestamp)
    return first


def _runs_in_pools(instance: dg.DagsterInstance) -> set[str]:
    storage = instance.event_log_storage
    run_ids = set(storage.get_concurrency_run_ids())
    for key in storage.get_concurrency_keys():
        info = storage.get_concurrency_info(key)
        run_ids.update(step.run_id for step in info.pending_steps)
    return run_ids


def reap_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """The ids of the runs whose slots were freed now (finished runs' or dead runs')."""
    if not instance.event_log_storage.supports_global_concurrency_limits:
        return []
    if instance.run_launcher.supports_check_run_worker_health:
        # Run monitoring asks such a launcher (deploy/: Docker) about its workers. Their processes live
        # in other containers or on other hosts, where a pid seen from here proves nothing.
        return []
    freed = []
    for run_id in sorted(_runs_in_pools(instance)):
        run = instance.get_run_by_id(run_id)
        if run is not None and run.status not in FINISHED_STATUSES:
            first = _first_event_by_pid(instance, run_id)
            if not orphaned(first, {pid: process_started_at(pid) for pid in first}):
                continue
            pids = ", ".join(map(str, sorted(first)))
            instance.report_run_failed(run, f"the run's process ({pids}) is gone: killed or crashed; "
                                            "its pool slots were freed")
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)
        freed.append(run_id)
    return freed


@dg.sensor(minimum_interval_seconds=REAP_INTERVAL_S, default_status=dg.DefaultSensorStatus.RUNNING)
def dead_run_sensor(context: dg.SensorEvaluationContext):
    freed = reap_dead_runs(context.instance)
    if not freed:
        return dg.SkipReason("every run holding a pool slot is alive")
    context.log.info("freed the pool slots of runs %s", ", ".join(freed))
    return dg.SkipReason(f"freed the pool slots of {len(freed)} run(s)")
