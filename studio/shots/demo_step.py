"""The demo's shot step: every scene's keyframes and clips rendered with the configured backend."""

from __future__ import annotations

from studio.demo_runner import DemoRunner


def demo_shots(runner: DemoRunner) -> None:
    """Render each scene's keyframes (shot_keyframes) and clips (shot_clips) once, a line per scene."""
    for scene in runner.partitions("scene"):
        result = runner.run("shot_clips_job", scene, tags={"studio/step": "shots"})
        details = ""
        if result.success:
            keyframes = result.asset_materializations_for_node("shot_keyframes")
            meta = result.asset_materializations_for_node("shot_clips")[0].metadata
            rendered, kept = meta["rendered"].value, meta["kept"].value
            made = f"{keyframes[0].metadata['keyframes'].value} keyframes, " if keyframes else ""
            details = (f"{made}{len(rendered)} shots rendered, {len(kept)} kept, "
                       f"{meta['gpu_seconds'].value:.1f} s render time ({meta['backend'].value})")
        runner.line("shot_clips_job", scene, result, details)
