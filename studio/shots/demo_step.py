"""The demo's shot step: every scene's keyframes and clips rendered with the configured backend."""

from __future__ import annotations

import dagster as dg


def demo_shots(defs: dg.Definitions, instance: dg.DagsterInstance, run_config: dict) -> int:
    """Render each scene's shots once and print what was rendered; returns the number of failed runs."""
    failures = 0
    job = defs.resolve_job_def("shot_clips_job")
    for scene in instance.get_dynamic_partitions("scene"):
        result = job.execute_in_process(partition_key=scene, instance=instance, raise_on_error=False,
                                        run_config=run_config, tags={"studio/step": "shots"})
        if not result.success:
            print(f"  shot_clips_job [{scene}]: FAILED (run {result.run_id[:8]})")
            failures += 1
            continue
        meta = result.asset_materializations_for_node("shot_clips")[0].metadata
        rendered, kept = meta["rendered"].value, meta["kept"].value
        print(f"  shot_clips_job [{scene}]: ok (run {result.run_id[:8]}): {len(rendered)} shots rendered, "
              f"{len(kept)} kept, {meta['gpu_seconds'].value:.1f} s render time ({meta['backend'].value})")
    return failures
