"""The demo's training step: a preview LoRA for the character with the most approved images.

The demo's batches are small, so the character's target is lowered to what it has (the issue allows
a small demo target); then training_job runs for it like the sensor would request it.
"""

from __future__ import annotations

import asyncio

import dagster as dg

from studio.db.session import studio_connection
from studio.settings import load_settings


async def _pick_and_lower_target() -> tuple[str, int] | None:
    async with studio_connection(load_settings()) as conn:
        row = await conn.fetchrow(
            "SELECT c.slug, count(i.id) AS approved FROM characters c JOIN images i ON i.character_id = c.id "
            "AND i.status = 'approved' GROUP BY c.slug ORDER BY count(i.id) DESC, c.slug LIMIT 1")
        if row is None:
            return None
        await conn.execute("UPDATE characters SET target_images = least(target_images, $2) WHERE slug = $1",
                           row["slug"], row["approved"])
        return row["slug"], row["approved"]


def demo_training(defs: dg.Definitions, instance: dg.DagsterInstance, run_config: dict) -> int:
    """Train one preview LoRA and print what it is; returns the number of failed runs (0 or 1)."""
    picked = asyncio.run(_pick_and_lower_target())
    if picked is None:
        print("  training_job: skipped (no character has an approved image yet)")
        return 0
    slug, approved = picked
    result = defs.resolve_job_def("training_job").execute_in_process(
        partition_key=slug, instance=instance, raise_on_error=False, run_config=run_config)
    if not result.success:
        print(f"  training_job [{slug}]: FAILED (run {result.run_id[:8]})")
        return 1
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key.path == ["lora_checkpoints"]]
    meta = {k: v.value for k, v in event.materialization.metadata.items()}
    print(f"  training_job [{slug}]: ok (run {result.run_id[:8]}): LoRA v{meta['version']} {meta['lora_name']} "
          f"on {approved} images, rank {meta['rank']}, {meta['steps']} steps, final avr_loss "
          f"{meta['final_avr_loss']:.3f}, sample score {meta['quality_score']:.2f}, "
          f"{'active' if meta['active'] else 'not active'} ({meta['gate_reason']})")
    return 0
