"""Reading the story catalog (characters, scenes, episodes) for assets, sensors and the API."""

from __future__ import annotations

import asyncpg

CATALOG_TABLES = ("characters", "scenes", "episodes")


async def slugs(conn: asyncpg.Connection | asyncpg.Pool, table: str) -> list[str]:
    if table not in CATALOG_TABLES:
        raise ValueError(f"{table!r} is not a catalog table")
    return [r["slug"] for r in await conn.fetch(f"SELECT slug FROM {table} ORDER BY slug")]


async def character(conn, slug: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT c.*, p.slug AS project_slug, s.slug AS style_slug
             FROM characters c
             JOIN projects p ON p.id = c.project_id
             LEFT JOIN generation_styles s ON s.id = c.style_id
            WHERE c.slug = $1""",
        slug,
    )


async def scene_with_shots(conn, slug: str) -> tuple[asyncpg.Record | None, list[asyncpg.Record]]:
    scene = await conn.fetchrow(
        "SELECT s.*, p.slug AS project_slug FROM scenes s JOIN projects p ON p.id = s.project_id "
        "WHERE s.slug = $1",
        slug,
    )
    if scene is None:
        return None, []
    shots = await conn.fetch("SELECT * FROM shots WHERE scene_id = $1 ORDER BY position", scene["id"])
    return scene, shots


async def episode_with_scenes(conn, slug: str) -> tuple[asyncpg.Record | None, list[asyncpg.Record]]:
    episode = await conn.fetchrow(
        "SELECT e.*, p.slug AS project_slug, p.name AS project_name FROM episodes e "
        "JOIN projects p ON p.id = e.project_id WHERE e.slug = $1",
        slug,
    )
    if episode is None:
        return None, []
    scenes = await conn.fetch(
        """SELECT es.position, es.transition, es.transition_s, s.slug, s.title
             FROM episode_scenes es JOIN scenes s ON s.id = es.scene_id
            WHERE es.episode_id = $1 ORDER BY es.position""",
        episode["id"],
    )
    return episode, scenes
