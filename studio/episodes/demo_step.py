"""The demo's episode step: every episode assembled from its scene videos and published to the library."""

from __future__ import annotations

import dagster as dg

from studio.demo_runner import DemoRunner

SCENE_VIDEOS = dg.AssetKey("scene_videos")


def _ensure_scene_videos(runner: DemoRunner) -> None:
    """Scene videos no earlier step made are made here, so the episodes have something to join."""
    for scene in runner.partitions("scene"):
        done = runner.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=SCENE_VIDEOS, asset_partitions=[scene]), limit=1).records
        if not done:
            runner.line("scene_videos", scene, runner.run(None, scene, asset_selection=[SCENE_VIDEOS]))


def demo_episodes(runner: DemoRunner) -> None:
    """Assemble (episodes) and publish (published_episodes) every episode, a line per episode."""
    graph = runner.defs.resolve_asset_graph()
    if not graph.has(SCENE_VIDEOS) or not graph.get(SCENE_VIDEOS).is_materializable:
        print("  episodes_job: skipped (this code location has no scene_videos asset to join)")
        return
    _ensure_scene_videos(runner)
    for episode in runner.partitions("episode"):
        result = runner.run("episodes_job", episode, tags={"studio/step": "episodes"})
        details = ""
        if result.success:
            video = result.asset_materializations_for_node("episodes")[0].metadata
            published = result.asset_materializations_for_node("published_episodes")[0].metadata
            details = (f"{video['duration_s'].value:.1f} s, {video['integrated_lufs'].value:.1f} LUFS "
                       f"({video['normalization_type'].value}), published to {published['video'].value} "
                       f"({published['link_mode'].value}; Jellyfin: {published['jellyfin'].value})")
        runner.line("episodes_job", episode, result, details)
