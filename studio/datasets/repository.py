"""SQL of the dataset batch: the character, its known hashes, image rows, history rows."""

from __future__ import annotations

import hashlib

from studio.datasets.models import CharacterContext, GeneratedImage, StyleParams
from studio.db.advisory import release_session_lock, take_session_lock
from studio.domain.appearance import Appearance


async def load_character(conn, slug: str) -> CharacterContext | None:
    row = await conn.fetchrow(
        """SELECT c.id, c.slug, c.name, c.design_prompt, c.appearance_data, c.target_images,
                  c.reference_images, s.checkpoint, s.lora_name, s.lora_strength, s.cfg, s.steps,
                  s.sampler, s.scheduler, s.width, s.height, s.positive_template, s.negative_template
             FROM characters c LEFT JOIN generation_styles s ON s.id = c.style_id
            WHERE c.slug = $1""",
        slug,
    )
    if row is None:
        return None
    if row["checkpoint"] is None:
        raise ValueError(f"character {slug!r} has no generation style")
    style = StyleParams(**{k: row[k] for k in StyleParams.model_fields})
    return CharacterContext(
        id=row["id"], slug=row["slug"], name=row["name"], design_prompt=row["design_prompt"],
        appearance=Appearance.model_validate(row["appearance_data"]), target_images=row["target_images"],
        style=style, reference_images=list(row["reference_images"]),
    )


async def known_hashes(conn, character_id: int) -> list[int]:
    rows = await conn.fetch("SELECT phash FROM images WHERE character_id = $1", character_id)
    return [r["phash"] for r in rows]


async def next_seed_offset(conn, character_id: int) -> int:
    """Seeds continue after the last finished batch, so re-running a crashed batch repeats its
    seeds (and finds its images already registered) instead of drawing new ones."""
    return await conn.fetchval(
        "SELECT coalesce(sum(requested), 0) FROM generation_history "
        "WHERE character_id = $1 AND status = 'succeeded'",
        character_id,
    )


class BatchBusy(RuntimeError):
    permanent = True  # every later job of the batch would meet the same lock


def _batch_lock_id(character_id: int) -> int:
    return int.from_bytes(hashlib.sha256(f"dataset_images:{character_id}".encode()).digest()[:8], "big", signed=True)


async def lock_batches(conn, character: CharacterContext) -> None:
    """Held on its own connection for a whole batch: one batch of a character at a time (two would draw
    the same seeds), and a crash closes the connection and frees it."""
    if not await take_session_lock(conn, _batch_lock_id(character.id)):
        raise BatchBusy(f"character {character.slug!r} has a dataset batch running in another run")


async def unlock_batches(conn, character: CharacterContext) -> bool:
    """False when the lock's connection had died (the database restarted) and took the lock along."""
    return await release_session_lock(conn, _batch_lock_id(character.id))


async def fail_interrupted(conn, character_id: int) -> list[str]:
    """With the character's lock held, a batch still `started` belongs to a run that died: mark it failed."""
    rows = await conn.fetch(
        """UPDATE generation_history SET status = 'failed', error = 'interrupted: the run stopped mid-batch',
                  finished_at = now()
            WHERE character_id = $1 AND status = 'started' RETURNING coalesce(dagster_run_id, '') AS run_id""",
        character_id)
    return [r["run_id"] for r in rows]


async def start_history(conn, character_id: int, requested: int, backend: str, run_id: str | None) -> int:
    return await conn.fetchval(
        "INSERT INTO generation_history (character_id, requested, backend, dagster_run_id) "
        "VALUES ($1, $2, $3, $4) RETURNING id",
        character_id, requested, backend, run_id,
    )


async def finish_history(conn, history_id: int, *, status: str, counts: dict, gpu_seconds: float,
                         error: str | None = None) -> None:
    await conn.execute(
        """UPDATE generation_history
              SET status = $2, generated = $3, duplicates = $4, approved = $5, rejected = $6,
                  pending = $7, gpu_seconds = $8, error = $9, finished_at = now()
            WHERE id = $1""",
        history_id, status, counts.get("generated", 0), counts.get("duplicates", 0),
        counts.get("approved", 0), counts.get("rejected", 0), counts.get("pending", 0), gpu_seconds, error,
    )


async def register_image(conn, *, character_id: int, file_path: str, sha256: str, phash: int,
                         width: int, height: int, prompt: str, negative: str, image: GeneratedImage,
                         run_id: str | None) -> int | None:
    """Insert as pending with its provenance; None when these exact bytes are already registered."""
    return await conn.fetchval(
        """INSERT INTO images (character_id, file_path, sha256, phash, width, height, prompt,
                               negative_prompt, seed, checkpoint, lora, workflow_hash, comfy_prompt_id,
                               gpu_seconds, backend, source, dagster_run_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'generated', $16)
           ON CONFLICT DO NOTHING RETURNING id""",
        character_id, file_path, sha256, phash, width, height, prompt, negative, image.seed,
        image.checkpoint, image.lora, image.workflow_hash, image.comfy_prompt_id, image.gpu_seconds,
        image.backend, run_id,
    )


async def registered_by(conn, sha256: str, image: GeneratedImage, run_id: str | None) -> int | None:
    """The id of the image these bytes were registered as by this very job (same run, seed and prompt),
    None when another image holds them: a true duplicate."""
    return await conn.fetchval(
        """SELECT id FROM images WHERE sha256 = $1 AND seed = $2 AND dagster_run_id IS NOT DISTINCT FROM $3
                                   AND comfy_prompt_id IS NOT DISTINCT FROM $4""",
        sha256, image.seed, run_id, image.comfy_prompt_id)
