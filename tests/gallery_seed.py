"""One character's dataset in every state, for the gallery's API and page tests.

mika (target 4): batch A of 3 (approved, rejected by a person with reasons, pending), batch B of 2
pending, one uploaded image a person approved; ryu (a dragon, target 2) with one pending image.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from tests.review_seed import DRAGON, HUMAN, seed_character, seed_image, seed_project

BATCH_A = "0a6f3c52-1111-4c1e-9d7e-aaaaaaaaaaaa"
BATCH_B = "0a6f3c52-2222-4c1e-9d7e-bbbbbbbbbbbb"
CHECKPOINT = "anything-v5.safetensors"


async def seed_batch(db, character_id: int, run_id: str, image_ids: list[int], strategy: str | None = None) -> None:
    """A generation_history row for the batch and its provenance on its images."""
    await db.execute(
        """INSERT INTO generation_history (character_id, dagster_run_id, status, requested, generated, approved,
                                           rejected, pending, backend, parameters, strategy, finished_at)
           VALUES ($1, $2, 'succeeded', $3, $3, 0, 0, $3, 'preview', $4::jsonb, $5, now())""",
        character_id, run_id, len(image_ids), {"used": {"checkpoint": CHECKPOINT, "cfg": 7.0}}, strategy)
    await db.execute("UPDATE images SET dagster_run_id = $2, checkpoint = $3, workflow_hash = 'wf-1', "
                     "comfy_prompt_id = 'p-' || id, gpu_seconds = 1.5 WHERE id = ANY($1::bigint[])",
                     image_ids, run_id, CHECKPOINT)


async def seed_gallery(db, media: Path) -> SimpleNamespace:
    project = await seed_project(db)
    mika = await seed_character(db, project, "mika", HUMAN, target=4)
    ryu = await seed_character(db, project, "ryu", DRAGON, target=2)
    a = [await seed_image(db, media, mika, 1, status="approved", score=0.9),
         await seed_image(db, media, mika, 2, status="rejected", score=0.3),
         await seed_image(db, media, mika, 3, score=0.6)]
    b = [await seed_image(db, media, mika, 4, score=0.7), await seed_image(db, media, mika, 5, score=0.5)]
    uploaded = await seed_image(db, media, mika, 6, status="approved", score=None)
    await db.execute("UPDATE images SET source = 'uploaded', decided_by = 'human', reviewer = 'ayaka' WHERE id = $1",
                     uploaded)
    await db.execute("UPDATE images SET decided_by = 'human', reviewer = 'ayaka' WHERE id = $1", a[1])
    await db.execute("""INSERT INTO review_feedback (image_id, character_id, decision, categories, comment, reviewer)
                        VALUES ($1, $2, 'rejected', ARRAY['blurry', 'off_model_colours'], 'hair too pale', 'ayaka')""",
                     a[1], mika)
    await seed_batch(db, mika, BATCH_A, a, strategy="raise_cfg")
    await seed_batch(db, mika, BATCH_B, b)
    other = await seed_image(db, media, ryu, 7)
    return SimpleNamespace(mika=mika, a=a, b=b, uploaded=uploaded, other=other)
