"""`studio demo`: import the example project and materialize every asset that exists, end to end.

It drives the same Definitions, sensors and resources as the webserver and daemon would, in one
process, against the embedded database and the CPU preview backends (unless configured otherwise).
"""

from __future__ import annotations

import asyncio
import time
import warnings
from pathlib import Path

import dagster as dg

from studio.settings import load_settings
from studio.dagster_init import initialize_dagster_home
from studio.dagster_runs import ORIGIN_TAG
from studio.db.session import studio_connection
from studio.demo_runner import DemoRunner
from studio.demo_summary import add_run_figures, gather, summary_lines, write_json
from studio.spec.importer import import_project
from studio.spec.validation import load_spec

# (job, partition set) of the first runs, in the order the pipeline needs them.
FIRST_JOBS = {"characters": [("characters_job", "character")],
              "datasets": [("dataset_batch_job", "character")],
              "story": [("scenes_job", "scene"), ("episode_plans_job", "episode")]}

# What each step does, in order: the progress lines say it before the step starts.
STEPS = {
    "import": "load the example project into the studio database",
    "partitions": "mirror characters, scenes and episodes into Dagster partitions (partition_sync_sensor)",
    "characters": "record each character sheet (characters)",
    "datasets": "a first batch per character: generate, drop near-duplicates, review (dataset_images, "
                "approved_images)",
    "review": "the demo acts as a person for non-human characters, whose images are never auto-approved",
    "story": "the scene plan and the episode's running order (scenes, episode_plans)",
    "autonomy": "replenishment by the sensor's own code: batches with no person, reviewed between ticks",
    "training": "a preview LoRA for the character with the most approved images (training_dataset, "
                "lora_checkpoints)",
    "shots": "keyframes and clips of every scene's shots (shot_keyframes, shot_clips)",
    "scene videos": "voices, a music bed ducked under speech and subtitles per scene (scene_videos)",
    "episodes": "scene videos joined, loudness-normalised and published to the Jellyfin tree "
                "(episodes, published_episodes)",
}


SUMMARY_FILE = "demo-summary.json"
# Runs the demo makes say so in the runs API and the UI, apart from ones a person or a sensor launched.
DEMO_TAGS = {ORIGIN_TAG: "demo"}


def _run_figures(result: dg.ExecuteInProcessResult) -> str:
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
        elif "species" in meta:
            parts.append(f"{meta['name'].value}, {meta['species'].value}, target {meta['target_images'].value} images")
        elif "planned_seconds" in meta:
            parts.append(f"{meta['title'].value!r}: {meta['shots'].value} shots, {meta['planned_seconds'].value} s planned")
        elif "running_order" in meta:
            parts.append(f"{meta['title'].value!r}: S{int(meta['season'].value):02}E{int(meta['number'].value):02}, "
                         f"{meta['scenes'].value} scene(s)")
    return "; ".join(parts)


async def _import(spec_path: Path) -> tuple[str, str]:
    """(the project's slug, what the import did)."""
    settings = load_settings()
    spec = load_spec(spec_path)
    async with studio_connection(settings) as conn:
        report = await import_project(conn, spec, spec_path, settings.media_root)
    return spec.project.slug, report.summary()


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


def _first_runs(runner: DemoRunner, step: str) -> None:
    for job_name, partition_set in FIRST_JOBS[step]:
        for key in runner.partitions(partition_set):
            result = runner.run(job_name, key)
            runner.line(job_name, key, result, _run_figures(result) if result.success else "")


async def _figures(settings) -> dict:
    async with studio_connection(settings) as conn:
        return await gather(conn, settings.media_root)


def run_demo(spec_path: Path) -> int:
    started = time.monotonic()
    settings = load_settings()
    print(f"backend: {settings.backend}")
    # As `studio dagster-init` does: the instance, its schema and the gpu pool limit the settings give.
    initialize_dagster_home(settings)
    from anime_assets.definitions import defs  # after DAGSTER_HOME and settings are in place
    setup_seconds = time.monotonic() - started
    print(f"set-up (studio database, Dagster instance, code location) in {setup_seconds:.1f} s")
    from studio.autonomy.demo_step import demo_autonomy
    from studio.episodes.demo_step import demo_episodes
    from studio.review.demo_step import review_as_person
    from studio.scene_videos.demo_step import demo_scene_videos
    from studio.shots.demo_step import demo_shots
    from studio.training.demo_step import demo_training

    # Dagster's notice that Pipes internals are in preview says nothing about this demo.
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    with dg.DagsterInstance.get() as instance:
        runner = DemoRunner(defs, instance, tags=dict(DEMO_TAGS), total_steps=len(STEPS))
        with runner.step("import", f"{STEPS['import']} ({spec_path})"):
            runner.project, done = asyncio.run(_import(spec_path))
            print(f"  {done}")
        with runner.step("partitions", STEPS["partitions"]):
            sync_partitions(defs, instance)
        for step in ("characters", "datasets"):
            with runner.step(step, STEPS[step]):
                _first_runs(runner, step)
        with runner.step("review", STEPS["review"]):
            review_as_person(runner.project)
        with runner.step("story", STEPS["story"]):
            _first_runs(runner, "story")
        steps = {"autonomy": demo_autonomy, "training": demo_training, "shots": demo_shots,
                 "scene videos": demo_scene_videos, "episodes": demo_episodes}
        for step, run_step in steps.items():
            with runner.step(step, STEPS[step]):
                run_step(runner)
        figures = add_run_figures(asyncio.run(_figures(settings)), runner, time.monotonic() - started,
                                  setup_seconds)
    figures["backend"] = settings.backend
    write_json(figures, settings.home / SUMMARY_FILE)
    print("\n".join(summary_lines(figures)))
    print(f"  figures as JSON: {settings.home / SUMMARY_FILE}")
    print(f"demo finished in {time.monotonic() - started:.1f}s with {runner.failures} failed run(s)")
    return 1 if runner.failures else 0
