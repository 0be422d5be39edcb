"""What a scene video is made from, read in one place: the scene, its shots in order, its cast."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg


class SceneNotFound(LookupError):
    pass


@dataclass(frozen=True)
class SceneSource:
    scene_id: int
    slug: str
    title: str
    music: str | None
    project_music: str | None
    shots: list[dict[str, Any]]  # position, clip_path, duration_s, dialogue, status
    cast: dict[str, dict[str, Any]]  # character slug -> {name, voice}


async def scene_source(conn: asyncpg.Connection, scene: str) -> SceneSource:
    row = await conn.fetchrow(
        """SELECT s.id, s.slug, s.title, s.music, p.music AS project_music, s.project_id
             FROM scenes s JOIN projects p ON p.id = s.project_id WHERE s.slug = $1""", scene)
    if row is None:
        raise SceneNotFound(f"scene {scene!r} not found")
    shots = await conn.fetch(
        """SELECT position, clip_path, duration_s::numeric::float8 AS duration_s, dialogue, status
             FROM shots WHERE scene_id = $1 ORDER BY position""", row["id"])
    cast = await conn.fetch("SELECT slug, name, voice FROM characters WHERE project_id = $1", row["project_id"])
    return SceneSource(row["id"], row["slug"], row["title"], row["music"], row["project_music"],
                       [dict(s) for s in shots], {c["slug"]: {"name": c["name"], "voice": c["voice"]} for c in cast})


async def give_projects_music(conn: asyncpg.Connection, music: str) -> int:
    """Set `music` as the bed of every project that has none (the demo's generated bed)."""
    done = await conn.execute("UPDATE projects SET music = $1, updated_at = now() WHERE music IS NULL", music)
    return int(done.split()[-1])
