"""`studio demo`: import the example project and materialize every asset that exists, end to end.

It drives the same Definitions, sensors and resources as the webserver and daemon would, in one
process, against the embedded database and the CPU preview backends (unless configured otherwise).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import dagster as dg

from studio.settings import load_settings
from studio.dagster_home import ensure_dagster_home, initialize_pools
from studio.db.session import studio_connection
from studio.spec.importer import import_project
from studio.spec.validation import load_spec

# Every event is still stored in the instance (and shown in the UI); the terminal gets warnings only.
QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}

# (job, partition set) in the order the pipeline needs them.
DEMO_JOBS = [("characters_job", "character"), ("dataset_batch_job", "character"),
             ("scenes_job", "scene"), ("episode_plans_job", "episode")]


def _summary(result: dg.ExecuteInProcessResult) -> str:
    """The figures a person wants to see per run, from its materializations' metadata."""
    parts = []
    for event in result.get_asset_materialization_events():
        meta = event.materialization.metadata
        if "generated" in meta:
            parts.append(f"{meta['generated'].value} generated, {meta['approved'].value} approved, "
                         f"{meta['rejected'].value} rejected, {meta['pending_review'].value} to review, "
                         f"{meta['duplicates_skipped'].value} duplicates ({meta['backend'].value})")
        elif "target" in meta and "approved" in meta:
            parts.append(f"dataset {meta['approved'].value}/{meta['target'].value}")
    return "; ".join(parts)


async def _import(spec_path: Path) -> str:
    settings = load_settings()
    spec = load_spec(spec_path)
    async with studio_connection(settings) as conn:
        report = await import_project(conn, spec, spec_path, settings.media_root)
    return report.summary()


def sync_partitions(defs: dg.Definitions, instance: dg.DagsterInstance) -> None:
    """Evaluate the partition sync sensor once and apply what it asks for, as the daemon would."""
    sensor = defs.resolve_sensor_def("partition_sync_sensor")
    with dg.build_sensor_context(instance=instance, resources=defs.resources) as context:
        result = sensor(context)
    if isinstance(result, dg.SensorResult):
        for request in result.dynamic_partitions_requests or []:
            if isinstance(request, dg.AddDynamicPartitionsRequest):
                instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
            else:
                for key in request.partition_keys:
                    instance.delete_dynamic_partition(request.partitions_def_name, key)


def run_demo(spec_path: Path) -> int:
    started = time.monotonic()
    settings = load_settings()
    print(f"studio home: {settings.home} (backend: {settings.backend})")
    print(asyncio.run(_import(spec_path)))

    ensure_dagster_home(settings)
    from anime_assets.definitions import defs  # after DAGSTER_HOME and settings are in place

    failures = 0
    with dg.DagsterInstance.get() as instance:
        initialize_pools(instance)
        sync_partitions(defs, instance)
        for job_name, partition_set in DEMO_JOBS:
            job = defs.resolve_job_def(job_name)
            for key in instance.get_dynamic_partitions(partition_set):
                result = job.execute_in_process(
                    partition_key=key, instance=instance, raise_on_error=False, run_config=QUIET_RUN
                )
                failures += 0 if result.success else 1
                status = "ok" if result.success else "FAILED"
                details = _summary(result) if result.success else ""
                print(f"  {job_name} [{key}]: {status} (run {result.run_id[:8]})" + (f": {details}" if details else ""))
        from studio.autonomy.demo_step import demo_autonomy  # batches asked for by the sensor, no person
        failures += demo_autonomy(defs, instance, QUIET_RUN)
        from studio.training.demo_step import demo_training  # a preview LoRA for a character at its target
        failures += demo_training(defs, instance, QUIET_RUN)
        from studio.shots.demo_step import demo_shots  # every scene's shots, preview clips by default
        failures += demo_shots(defs, instance, QUIET_RUN)
        from studio.scene_videos.demo_step import demo_scene_videos  # voices, music bed, subtitles per scene
        failures += demo_scene_videos(defs, instance, QUIET_RUN)
        from studio.episodes.demo_step import demo_episodes  # scene videos joined, published to the library
        failures += demo_episodes(defs, instance, QUIET_RUN)
    print(f"demo finished in {time.monotonic() - started:.1f}s with {failures} failed run(s)")
    return 1 if failures else 0
