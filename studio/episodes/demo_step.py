"""The demo's episode step: every episode assembled from its scene videos and published to the library."""

from __future__ import annotations

import dagster as dg

SCENE_VIDEOS = dg.AssetKey("scene_videos")


def _ensure_scene_videos(defs: dg.Definitions, instance: dg.DagsterInstance, run_config: dict) -> int:
    """Scene videos no earlier step made are made here, so the episodes have something to join."""
    failures = 0
    job = defs.resolve_implicit_global_asset_job_def()
    for scene in instance.get_dynamic_partitions("scene"):
        done = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=SCENE_VIDEOS, asset_partitions=[scene]), limit=1).records
        if done:
            continue
        result = job.execute_in_process(partition_key=scene, instance=instance, raise_on_error=False,
                                        run_config=run_config, asset_selection=[SCENE_VIDEOS])
        status = "ok" if result.success else "FAILED"
        failures += 0 if result.success else 1
        print(f"  scene_videos [{scene}]: {status} (run {result.run_id[:8]})")
    return failures


def demo_episodes(defs: dg.Definitions, instance: dg.DagsterInstance, run_config: dict) -> int:
    if not defs.resolve_asset_graph().has(SCENE_VIDEOS) or \
            not defs.resolve_asset_graph().get(SCENE_VIDEOS).is_materializable:
        print("  episodes_job: skipped (this code location has no scene_videos asset to join)")
        return 0
    failures = _ensure_scene_videos(defs, instance, run_config)
    job = defs.resolve_job_def("episodes_job")
    for episode in instance.get_dynamic_partitions("episode"):
        result = job.execute_in_process(partition_key=episode, instance=instance, raise_on_error=False,
                                        run_config=run_config, tags={"studio/step": "episodes"})
        if not result.success:
            print(f"  episodes_job [{episode}]: FAILED (run {result.run_id[:8]})")
            failures += 1
            continue
        video = result.asset_materializations_for_node("episodes")[0].metadata
        published = result.asset_materializations_for_node("published_episodes")[0].metadata
        print(f"  episodes_job [{episode}]: ok (run {result.run_id[:8]}): {video['duration_s'].value:.1f} s, "
              f"{video['integrated_lufs'].value:.1f} LUFS ({video['normalization_type'].value}), "
              f"published to {published['video'].value} ({published['link_mode'].value}; "
              f"Jellyfin: {published['jellyfin'].value})")
    return failures
