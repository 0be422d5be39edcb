"""What a scene's render looks like from outside: per-shot state, what is stale and why, the ETA;
and the per-shot edits a person makes (each answered with what it made stale)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg

from studio.domain.shot_rendering import (ChainShot, gpu_seconds_per_video_second, opens_chain, plan_renders,
                                          remaining_seconds, shot_seed, ShotToRender)
from studio.shots import repository
from studio.story.errors import InvalidField, NotFound
from studio.story.sql import catalog_changed

EDITABLE = ("shot_type", "motion_prompt", "first_frame", "cut", "seed", "keyframe_image_id", "duration_s", "dialogue")
# Fields whose change gives the chain opener a new keyframe: the old one no longer fits.
KEYFRAME_FIELDS = ("first_frame", "keyframe_image_id", "cut", "seed")


async def _scene(conn: asyncpg.Connection, scene: str) -> asyncpg.Record:
    row = await repository.scene_row(conn, scene)
    if row is None:
        raise NotFound(f"scene {scene!r} not found")
    return row


def _chain(scene: str, shots: list[dict], renderer, media_root: Path) -> list[ChainShot]:
    anchor = shots[0]["keyframe_sha256"] if shots else None
    chain = []
    for index, shot in enumerate(shots):
        seed = shot_seed(scene, shot)
        job = ShotToRender(shot["shot_key"], shot["shot_type"], shot["motion_prompt"], seed, shot["duration_s"])
        keyframe = shot["keyframe_sha256"] if shot["keyframe_path"] and (media_root / shot["keyframe_path"]).is_file() \
            else None
        chain.append(ChainShot(
            key=shot["shot_key"], opens_chain=opens_chain(shot, index),
            inputs=renderer.render_inputs(job, anchor or "no-anchor-yet"), keyframe_sha256=keyframe,
            stored_hash=shot["input_hash"],
            clip_present=bool(shot["clip_path"]) and (media_root / shot["clip_path"]).is_file(),
            last_frame_sha256=shot["last_frame_sha256"]))
    return chain


async def render_status(conn: asyncpg.Connection, scene: str, renderer, media_root: Path) -> dict[str, Any]:
    row = await _scene(conn, scene)
    shots = await repository.render_shots(conn, row["id"])
    plan = plan_renders(_chain(scene, shots, renderer, media_root))
    measured = await repository.measured_rates(conn, row["project_id"], renderer.backend)
    rate = gpu_seconds_per_video_second(measured, renderer.default_gpu_seconds_per_video_second)
    pending = [s["duration_s"] for s in shots if s["shot_key"] in plan]
    running = await repository.scene_is_rendering(conn, scene)

    def shown(status: str) -> str:
        # A shot still marked in flight with no render holding the scene was left by a run that died.
        return "interrupted" if status == "rendering" and not running else status

    return {
        "scene": scene,
        "rendering": running,
        "shots": [{"key": s["shot_key"], "position": s["position"], "status": shown(s["status"]),
                   "stale": s["shot_key"] in plan, "stale_reason": plan.reasons.get(s["shot_key"]),
                   "clip_path": s["clip_path"], "duration_s": s["duration_s"],
                   "rendered_duration_s": s["rendered_duration_s"], "gpu_seconds": s["gpu_seconds"],
                   "error": s["render_error"]} for s in shots],
        "stale": list(plan.render),
        "gpu_seconds_per_video_second": round(rate, 3),
        "eta_minutes": round(remaining_seconds(pending, rate) / 60, 2),
    }


async def shot_by_key(conn: asyncpg.Connection, scene: str, key: str) -> dict:
    row = await _scene(conn, scene)
    found = await conn.fetchrow(repository.RENDER_SQL + " WHERE t.scene_id = $1 AND t.shot_key = $2", row["id"], key)
    if found is None:
        raise NotFound(f"scene {scene!r} has no shot {key!r}")
    return dict(found)


async def edit_shot(conn: asyncpg.Connection, scene: str, key: str, changes: dict[str, Any]) -> None:
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidField((sorted(unknown)[0],), f"not an editable shot field (editable: {', '.join(EDITABLE)})")
    async with conn.transaction():
        shot = await shot_by_key(conn, scene, key)
        if changes.get("keyframe_image_id") is not None and not await conn.fetchval(
                "SELECT 1 FROM images WHERE id = $1 AND status = 'approved'", changes["keyframe_image_id"]):
            raise InvalidField(("keyframe_image_id",), f"image {changes['keyframe_image_id']} is not an approved image")
        if not changes:
            return
        columns = list(changes)
        sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, 2))
        await conn.execute(f"UPDATE shots SET {sets}, updated_at = now() WHERE id = $1", shot["id"],
                           *changes.values())
        if any(c in KEYFRAME_FIELDS for c in columns):
            # The next shot_keyframes run makes a new keyframe; the hash then shows what it changes.
            await conn.execute("UPDATE shots SET keyframe_sha256 = NULL WHERE id = $1", shot["id"])
        await catalog_changed(conn, "shots", scene, "updated")


async def force_rerender(conn: asyncpg.Connection, scene: str, key: str) -> None:
    """Forget the shot's hash, so the next render of the scene renders it (and what its new frame changes)."""
    shot = await shot_by_key(conn, scene, key)
    await conn.execute("UPDATE shots SET input_hash = NULL, status = 'planned', updated_at = now() WHERE id = $1",
                       shot["id"])
