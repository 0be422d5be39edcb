"""Scenes: a place, a time, a mood and an ordered list of shots (see studio.story.shots)."""

from __future__ import annotations

from typing import Any

import asyncpg

from studio.story.errors import Conflict, NotFound
from studio.story.shots import check_cast, insert_shot, shots_of
from studio.story.sql import (catalog_changed, delete_catalog_row, locked_row, project_id, refuse_taken_slug,
                              update_columns)

SCENE_SQL = """
SELECT s.id, s.slug, p.slug AS project, s.title, s.description, s.location, s.time_of_day, s.mood, s.music,
       (SELECT count(*) FROM shots t WHERE t.scene_id = s.id) AS shot_count,
       s.created_at, s.updated_at
  FROM scenes s JOIN projects p ON p.id = s.project_id
"""


async def _episodes_using(conn: asyncpg.Connection, scene_id: int) -> list[str]:
    rows = await conn.fetch(
        """SELECT e.slug FROM episode_scenes es JOIN episodes e ON e.id = es.episode_id
            WHERE es.scene_id = $1 ORDER BY e.season, e.number""",
        scene_id,
    )
    return [r["slug"] for r in rows]


async def list_scenes(conn: asyncpg.Connection, project: str | None) -> list[dict]:
    if project is not None:
        await project_id(conn, project)
    rows = await conn.fetch(SCENE_SQL + " WHERE $1::text IS NULL OR p.slug = $1 ORDER BY s.id", project)
    return [dict(r) for r in rows]


async def get_scene(conn: asyncpg.Connection, slug: str) -> dict:
    row = await conn.fetchrow(SCENE_SQL + " WHERE s.slug = $1", slug)
    if row is None:
        raise NotFound(f"scene {slug!r} not found")
    return {**row, "shots": await shots_of(conn, row["id"]), "episodes": await _episodes_using(conn, row["id"])}


async def create_scene(conn: asyncpg.Connection, values: dict[str, Any]) -> dict:
    async with conn.transaction():
        pid = await project_id(conn, values["project"])
        await refuse_taken_slug(conn, "scenes", values["slug"])
        for i, shot in enumerate(values["shots"]):
            await check_cast(conn, pid, shot, ("shots", i))
        try:
            scene_id = await conn.fetchval(
                """INSERT INTO scenes (project_id, slug, title, description, location, time_of_day, mood, music)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id""",
                pid, values["slug"], values["title"], values["description"], values["location"],
                values["time_of_day"], values["mood"], values["music"],
            )
        except asyncpg.UniqueViolationError:
            raise Conflict(f"scene slug {values['slug']!r} is taken") from None
        for position, shot in enumerate(values["shots"], 1):
            await insert_shot(conn, scene_id, position, shot)
        await catalog_changed(conn, "scenes", values["slug"], "created")
        return await get_scene(conn, values["slug"])


async def update_scene(conn: asyncpg.Connection, slug: str, changes: dict[str, Any]) -> dict:
    async with conn.transaction():
        row = await locked_row(conn, "scenes", slug)
        if changes:
            await update_columns(conn, "scenes", row["id"], changes)
            await catalog_changed(conn, "scenes", slug, "updated")
        return await get_scene(conn, slug)


async def delete_scene(conn: asyncpg.Connection, slug: str) -> None:
    async with conn.transaction():
        row = await locked_row(conn, "scenes", slug)
        episodes = await _episodes_using(conn, row["id"])
        if episodes:
            raise Conflict(f"scene {slug!r} is in episodes {', '.join(episodes)}: take it out of them first")
        await delete_catalog_row(conn, "scenes", row)
