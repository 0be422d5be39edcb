"""Projects: the root of the story domain. Deleting one cascades to everything it owns."""

from __future__ import annotations

from typing import Any

import asyncpg

from studio.story.errors import Conflict, NotFound
from studio.story.sql import catalog_changed, project_id, update_columns

PROJECT_SQL = """
SELECT p.slug, p.name, p.description, p.created_at, p.updated_at,
       (SELECT count(*) FROM characters c WHERE c.project_id = p.id) AS characters,
       (SELECT count(*) FROM scenes s WHERE s.project_id = p.id) AS scenes,
       (SELECT count(*) FROM episodes e WHERE e.project_id = p.id) AS episodes
  FROM projects p
"""


async def list_projects(conn: asyncpg.Connection) -> list[dict]:
    return [dict(r) for r in await conn.fetch(PROJECT_SQL + " ORDER BY p.slug")]


async def get_project(conn: asyncpg.Connection, slug: str) -> dict:
    row = await conn.fetchrow(PROJECT_SQL + " WHERE p.slug = $1", slug)
    if row is None:
        raise NotFound(f"project {slug!r} not found")
    return dict(row)


async def create_project(conn: asyncpg.Connection, values: dict[str, Any]) -> dict:
    try:
        await conn.execute(
            "INSERT INTO projects (slug, name, description) VALUES ($1, $2, $3)",
            values["slug"], values["name"], values["description"],
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"project slug {values['slug']!r} is taken") from None
    return await get_project(conn, values["slug"])


async def update_project(conn: asyncpg.Connection, slug: str, changes: dict[str, Any]) -> dict:
    async with conn.transaction():
        await update_columns(conn, "projects", await project_id(conn, slug), changes)
    return await get_project(conn, slug)


async def delete_project(conn: asyncpg.Connection, slug: str, *, confirm: bool) -> None:
    """A project with characters takes their images, reviews and LoRAs with it: only on confirm."""
    async with conn.transaction():
        pid = await conn.fetchval("SELECT id FROM projects WHERE slug = $1 FOR UPDATE", slug)
        if pid is None:
            raise NotFound(f"project {slug!r} not found")
        counts = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM characters WHERE project_id = $1) AS characters,
                      (SELECT count(*) FROM images i JOIN characters c ON c.id = i.character_id
                        WHERE c.project_id = $1) AS images""",
            pid,
        )
        if counts["characters"] and not confirm:
            raise Conflict(
                f"project {slug!r} has {counts['characters']} characters and {counts['images']} images; "
                "delete with ?confirm=true to remove them all"
            )
        owned = await conn.fetch(
            """SELECT 'characters' AS tbl, slug FROM characters WHERE project_id = $1
               UNION ALL SELECT 'scenes', slug FROM scenes WHERE project_id = $1
               UNION ALL SELECT 'episodes', slug FROM episodes WHERE project_id = $1""",
            pid,
        )
        # episode_scenes RESTRICTs scene deletion: remove the episodes (and their running orders)
        # first rather than rely on the order in which the cascades happen to fire.
        await conn.execute("DELETE FROM episodes WHERE project_id = $1", pid)
        await conn.execute("DELETE FROM projects WHERE id = $1", pid)
        for row in owned:
            await catalog_changed(conn, row["tbl"], row["slug"], "deleted")
