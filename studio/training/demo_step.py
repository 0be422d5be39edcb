"""The demo's training step: a preview LoRA for the character with the most approved images.

The demo's batches are small, so the character's target is lowered to what it has (the issue allows
a small demo target); then training_job runs for it like the sensor would request it.
"""

from __future__ import annotations

import asyncio

from studio.db.session import studio_connection
from studio.demo_runner import DemoRunner
from studio.settings import load_settings


async def _pick_and_lower_target(project: str) -> tuple[str, int] | None:
    async with studio_connection(load_settings()) as conn:
        row = await conn.fetchrow(
            "SELECT c.slug, count(i.id) AS approved FROM characters c JOIN images i ON i.character_id = c.id "
            "AND i.status = 'approved' JOIN projects p ON p.id = c.project_id WHERE p.slug = $1 "
            "GROUP BY c.slug ORDER BY count(i.id) DESC, c.slug LIMIT 1", project)
        if row is None:
            return None
        await conn.execute("UPDATE characters SET target_images = least(target_images, $2) WHERE slug = $1",
                           row["slug"], row["approved"])
        return row["slug"], row["approved"]


def demo_training(runner: DemoRunner) -> None:
    """Train one preview LoRA (training_dataset, then lora_checkpoints) and print what it is."""
    picked = asyncio.run(_pick_and_lower_target(runner.project))
    if picked is None:
        print("  training_job: skipped (no character has an approved image yet)")
        return
    slug, approved = picked
    result = runner.run("training_job", slug)
    details = ""
    if result.success:
        [event] = [e for e in result.get_asset_materialization_events()
                   if e.asset_key.path == ["lora_checkpoints"]]
        meta = {k: v.value for k, v in event.materialization.metadata.items()}
        details = (f"LoRA v{meta['version']} {meta['lora_name']} on {approved} images, rank {meta['rank']}, "
                   f"{meta['steps']} steps, final avr_loss {meta['final_avr_loss']:.3f}, sample score "
                   f"{meta['quality_score']:.2f}, {'active' if meta['active'] else 'not active'} ({meta['gate_reason']})")
    runner.line("training_job", slug, result, details)
