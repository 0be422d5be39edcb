"""Per-shot render state in the `shots` table: every write of it is here.

A render holds the scene's advisory lock on its own connection for as long as it runs; a crash
closes the connection and frees the lock, and the next render first puts any shot still marked
`rendering` back to `planned`.
"""

from __future__ import annotations

import hashlib
from typing import Any

import asyncpg

from studio.db.advisory import release_session_lock, take_session_lock

RENDER_SQL = """
SELECT t.id, t.shot_key, t.position, t.description, t.shot_type, t.motion_prompt, t.first_frame, t.cut,
       t.duration_s::numeric::float8 AS duration_s, t.characters, t.seed, t.status, t.clip_path,
       t.last_frame_path, t.last_frame_sha256, t.input_hash, t.keyframe_image_id, t.keyframe_path,
       t.keyframe_sha256, t.gpu_seconds::numeric::float8 AS gpu_seconds,
       t.rendered_duration_s::numeric::float8 AS rendered_duration_s, t.render_error
  FROM shots t
"""


class SceneBusy(RuntimeError):
    pass


def _lock_id(scene: str) -> int:
    return int.from_bytes(hashlib.sha256(f"shot_clips:{scene}".encode()).digest()[:8], "big", signed=True)


async def scene_row(conn: asyncpg.Connection, scene: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT id, slug, project_id, title, time_of_day FROM scenes WHERE slug = $1", scene)


async def render_shots(conn: asyncpg.Connection, scene_id: int) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(RENDER_SQL + " WHERE t.scene_id = $1 ORDER BY t.position", scene_id)]


async def measured_rates(conn: asyncpg.Connection, project_id: int, backend: str) -> list[tuple[float, float]]:
    """(GPU seconds, seconds of video) of every shot of the project this backend rendered."""
    rows = await conn.fetch(
        """SELECT t.gpu_seconds::float8 AS gpu, t.rendered_duration_s::float8 AS video FROM shots t
             JOIN scenes s ON s.id = t.scene_id
            WHERE s.project_id = $1 AND t.render_backend = $2 AND t.gpu_seconds IS NOT NULL""",
        project_id, backend)
    return [(r["gpu"], r["video"]) for r in rows]


async def lock_scene(conn: asyncpg.Connection, scene: str) -> None:
    if not await take_session_lock(conn, _lock_id(scene)):
        raise SceneBusy(f"scene {scene!r} is being rendered by another run")


async def unlock_scene(conn: asyncpg.Connection, scene: str) -> bool:
    """False when the lock's connection had died (the database restarted) and took the lock along."""
    return await release_session_lock(conn, _lock_id(scene))


async def scene_is_rendering(conn: asyncpg.Connection, scene: str) -> bool:
    """Whether a render holds the scene's lock right now (asked by taking and releasing it)."""
    if await conn.fetchval("SELECT pg_try_advisory_lock($1)", _lock_id(scene)):
        await conn.execute("SELECT pg_advisory_unlock($1)", _lock_id(scene))
        return False
    return True


async def reset_interrupted(conn: asyncpg.Connection, scene_id: int) -> list[str]:
    rows = await conn.fetch(
        """UPDATE shots SET status = 'planned', render_error = 'interrupted: the render stopped mid-shot',
                  updated_at = now()
            WHERE scene_id = $1 AND status = 'rendering' RETURNING shot_key""", scene_id)
    return [r["shot_key"] for r in rows]


async def set_seed(conn: asyncpg.Connection, shot_id: int, seed: int) -> None:
    await conn.execute("UPDATE shots SET seed = $2 WHERE id = $1 AND seed IS NULL", shot_id, seed)


async def set_keyframe(conn: asyncpg.Connection, shot_id: int, path: str, sha256: str,
                       candidates_gpu_seconds: float | None = None) -> None:
    await conn.execute("""UPDATE shots SET keyframe_path = $2, keyframe_sha256 = $3, keyframe_gpu_seconds = $4,
                                 updated_at = now() WHERE id = $1""", shot_id, path, sha256, candidates_gpu_seconds)


async def set_last_frame(conn: asyncpg.Connection, shot_id: int, path: str, sha256: str) -> None:
    await conn.execute("UPDATE shots SET last_frame_path = $2, last_frame_sha256 = $3 WHERE id = $1",
                       shot_id, path, sha256)


async def mark_rendering(conn: asyncpg.Connection, shot_id: int) -> None:
    await conn.execute("UPDATE shots SET status = 'rendering', render_error = NULL, updated_at = now() WHERE id = $1",
                       shot_id)


async def mark_interrupted(conn: asyncpg.Connection, shot_id: int, why: str) -> None:
    """The run stopped mid-shot (cancelled, terminated): the shot waits for the next render."""
    await conn.execute("UPDATE shots SET status = 'planned', render_error = $2, updated_at = now() WHERE id = $1",
                       shot_id, f"interrupted: {why}"[:2000])


async def mark_failed(conn: asyncpg.Connection, shot_id: int, error: str) -> None:
    await conn.execute("UPDATE shots SET status = 'failed', render_error = $2, updated_at = now() WHERE id = $1",
                       shot_id, error[:2000])


async def mark_rendered(conn: asyncpg.Connection, shot_id: int, values: dict[str, Any]) -> None:
    """One statement: the clip, its frames, its hash and its cost become the shot's state together."""
    await conn.execute(
        """UPDATE shots SET status = 'rendered', clip_path = $2, last_frame_path = $3, last_frame_sha256 = $4,
                  start_frame_path = $5, start_frame_sha256 = $6, input_hash = $7, seed = $8, gpu_seconds = $9,
                  rendered_duration_s = $10, render_backend = $11, comfy_prompt_id = $12, render_error = NULL,
                  rendered_at = now(), updated_at = now()
            WHERE id = $1""",
        shot_id, values["clip_path"], values["last_frame_path"], values["last_frame_sha256"],
        values["start_frame_path"], values["start_frame_sha256"], values["input_hash"], values["seed"],
        values["gpu_seconds"], values["rendered_duration_s"], values["backend"], values["prompt_id"],
    )
