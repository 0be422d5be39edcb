"""Grow every character's dataset toward its target without a person: request a batch when every guard passes.

The guards and the learning are plain code (studio/autonomy/tick.py, studio/domain/); this sensor
reads the Dagster instance (queued or running batches, runs of earlier requests), turns the planned
runs into RunRequests with their stable run keys and says per character why not.
"""

from __future__ import annotations

from datetime import datetime, timezone

import dagster as dg

from resources.database import StudioDatabase
from studio.autonomy.tick import BATCH_JOB, replenishment_tick

IN_PROGRESS = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
               dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
PARTITION_TAG = "dagster/partition"
DECISION_TAG = "studio/autonomy_run_key"


class InstanceRuns:
    """The RunsView of studio/autonomy/tick.py over a Dagster instance: two queries per tick."""

    def __init__(self, instance: dg.DagsterInstance):
        self.instance = instance

    def in_progress_partitions(self) -> set[str]:
        runs = self.instance.get_runs(dg.RunsFilter(job_name=BATCH_JOB, statuses=IN_PROGRESS))
        return {run.tags[PARTITION_TAG] for run in runs if PARTITION_TAG in run.tags}

    def seen_run_keys(self, run_keys: list[str]) -> set[str]:
        if not run_keys:
            return set()
        runs = self.instance.get_runs(dg.RunsFilter(tags={DECISION_TAG: run_keys}))
        return {run.tags[DECISION_TAG] for run in runs}


@dg.sensor(job_name=BATCH_JOB, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def replenishment_sensor(context: dg.SensorEvaluationContext, database: StudioDatabase):
    cursor = int(context.cursor or 0)
    runs = InstanceRuns(context.instance)
    partitions = set(context.instance.get_dynamic_partitions("character"))
    now = datetime.now(timezone.utc)

    async def tick(conn):
        return await replenishment_tick(conn, runs, cursor=cursor, now=now, partitions=partitions)

    outcome = database.run_sync(tick)
    lines = outcome.lines()
    context.log.info("%d new review events; %d decisions written\n%s", outcome.events.total, outcome.written,
                     "\n".join(lines))
    requests = [dg.RunRequest(partition_key=run.partition_key, run_key=run.run_key, run_config=run.run_config,
                              tags={DECISION_TAG: run.run_key, "studio/autonomy": "replenishment"})
                for run in outcome.runs]
    # Drift is the approval_drift check of approved_images (anime_assets/approval_drift.py), evaluated
    # by the runs that follow every decision; here it is a decision row and a log line.
    if not requests:
        return dg.SensorResult(skip_reason=dg.SkipReason("no batch requested: " + "; ".join(lines[:20])),
                               cursor=str(outcome.cursor))
    return dg.SensorResult(run_requests=requests, cursor=str(outcome.cursor))
