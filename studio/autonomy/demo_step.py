"""The autonomy part of `make demo`: several replenishment ticks, each batch it asks for run in process.

The ticks run the sensor's plain code on a simulated clock (each tick a cooldown later), so the demo
shows in seconds what the daemon does over an hour: a character grows toward its target with no person.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import dagster as dg

from sensors.replenishment_sensor import DECISION_TAG, InstanceRuns
from studio.autonomy.tick import BATCH_JOB, replenishment_tick
from studio.db.session import studio_connection
from studio.domain.replenishment import Thresholds
from studio.settings import load_settings


def _tick(instance: dg.DagsterInstance, now: datetime, cursor: int):
    async def work():
        async with studio_connection(load_settings()) as conn:
            partitions = set(instance.get_dynamic_partitions("character"))
            return await replenishment_tick(conn, InstanceRuns(instance), cursor=cursor, now=now,
                                            partitions=partitions)
    return asyncio.run(work())


def demo_autonomy(defs: dg.Definitions, instance: dg.DagsterInstance, quiet_run: dict, ticks: int = 4) -> int:
    job = defs.resolve_job_def(BATCH_JOB)
    step = timedelta(seconds=Thresholds().cooldown_seconds + 60)
    now, cursor, failures = datetime.now(timezone.utc), 0, 0
    print(f"autonomy: {ticks} replenishment ticks, simulated clock +{step.seconds // 60} min per tick")
    for number in range(1, ticks + 1):
        outcome = _tick(instance, now, cursor)
        cursor = outcome.cursor
        for line in outcome.lines():
            print(f"  tick {number}: {line}")
        for run in outcome.runs:
            result = job.execute_in_process(
                partition_key=run.partition_key, instance=instance, raise_on_error=False,
                run_config={**quiet_run, **run.run_config},
                tags={DECISION_TAG: run.run_key, "dagster/run_key": run.run_key, "studio/autonomy": "replenishment"})
            failures += 0 if result.success else 1
            meta = result.asset_materializations_for_node("approved_images")
            progress = f"{meta[0].metadata['approved'].value}/{meta[0].metadata['target'].value}" if meta else "?"
            strategy = run.run_config["ops"]["dataset_images"]["config"].get("parameters", {}) \
                .get("provenance", {}).get("strategy")
            print(f"  tick {number}: ran batch for {run.partition_key} ({'ok' if result.success else 'FAILED'}): "
                  f"dataset {progress}" + (f", correction {strategy}" if strategy else ""))
        now += step
    return failures
