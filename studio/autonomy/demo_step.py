"""The autonomy part of `make demo`: several replenishment ticks, each batch it asks for run in process.

The ticks run the sensor's plain code on a simulated clock (each tick a cooldown later), so the demo
shows in seconds what the daemon does over an hour: a character grows toward its target with no person.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import dagster as dg

from sensors.replenishment_sensor import DECISION_TAG, InstanceRuns
from studio.autonomy.settings import all_thresholds
from studio.autonomy.tick import BATCH_JOB, replenishment_tick
from studio.demo_runner import DemoRunner
from studio.db.session import studio_connection
from studio.domain.replenishment import Thresholds
from studio.review.demo_step import review_as_person
from studio.settings import load_settings


def _tick(instance: dg.DagsterInstance, now: datetime, cursor: int):
    async def work():
        async with studio_connection(load_settings()) as conn:
            partitions = set(instance.get_dynamic_partitions("character"))
            return await replenishment_tick(conn, InstanceRuns(instance), cursor=cursor, now=now,
                                            partitions=partitions)
    return asyncio.run(work())


def _longest_cooldown() -> int:
    """The projects' cooldown (the spec's `autonomy:` section), so every simulated tick is past it."""
    async def work():
        async with studio_connection(load_settings()) as conn:
            return max([t.cooldown_seconds for t in (await all_thresholds(conn)).values()],
                       default=Thresholds().cooldown_seconds)
    return asyncio.run(work())


def demo_autonomy(runner: DemoRunner, ticks: int = 4) -> None:
    """Tick the sensor's code on a simulated clock; run each batch it asks for; the demo's person
    reviews what the batches leave for a person between ticks, as someone at the review page would."""
    step = timedelta(seconds=_longest_cooldown() + 60)
    now, cursor = datetime.now(timezone.utc), 0
    print(f"  {ticks} replenishment ticks, simulated clock +{step.seconds // 60} min per tick")
    for number in range(1, ticks + 1):
        outcome = _tick(runner.instance, now, cursor)
        cursor = outcome.cursor
        for line in outcome.lines():
            print(f"  tick {number}: {line}")
        for run in outcome.runs:
            result = runner.run(
                BATCH_JOB, run.partition_key, run_config=run.run_config,
                tags={DECISION_TAG: run.run_key, "dagster/run_key": run.run_key, "studio/autonomy": "replenishment"})
            meta = result.asset_materializations_for_node("approved_images") if result.success else []
            progress = f"{meta[0].metadata['approved'].value}/{meta[0].metadata['target'].value}" if meta else "?"
            strategy = run.run_config["ops"]["dataset_images"]["config"].get("parameters", {}) \
                .get("provenance", {}).get("strategy")
            print(f"  tick {number}: ran batch for {run.partition_key} ({'ok' if result.success else 'FAILED'}, "
                  f"run {result.run_id[:8]}): dataset {progress}" + (f", correction {strategy}" if strategy else ""))
        if outcome.runs:
            review_as_person(runner.project, indent=f"  tick {number}: ")
        now += step
