"""Characters: who is drawn, how, and how many dataset images they need."""

from __future__ import annotations

from typing import Any

import asyncpg

from studio.story.errors import Conflict, InvalidField, NotFound
from studio.story.sql import (catalog_changed, delete_catalog_row, locked_row, project_id, refuse_taken_slug,
                              update_columns)

CHARACTER_SQL = """
SELECT c.slug, p.slug AS project, c.name, c.design_prompt, c.appearance_data, c.target_images,
       s.slug AS style, c.reference_images, c.created_at, c.updated_at
  FROM characters c
  JOIN projects p ON p.id = c.project_id
  LEFT JOIN generation_styles s ON s.id = c.style_id
"""


async def list_characters(conn: asyncpg.Connection, project: str | None) -> list[dict]:
    if project is not None:
        await project_id(conn, project)
    rows = await conn.fetch(CHARACTER_SQL + " WHERE $1::text IS NULL OR p.slug = $1 ORDER BY c.id", project)
    return [dict(r) for r in rows]


async def get_character(conn: asyncpg.Connection, slug: str) -> dict:
    row = await conn.fetchrow(CHARACTER_SQL + " WHERE c.slug = $1", slug)
    if row is None:
        raise NotFound(f"character {slug!r} not found")
    return dict(row)


async def _style_id(conn: asyncpg.Connection, project_id_: int, style: str | None) -> int | None:
    if style is None:
        return None
    found = await conn.fetchval(
        "SELECT id FROM generation_styles WHERE project_id = $1 AND slug = $2", project_id_, style
    )
    if found is None:
        raise InvalidField(("style",), f"the project has no generation style {style!r}")
    return found


async def create_character(conn: asyncpg.Connection, values: dict[str, Any], *, style_given: bool) -> dict:
    """Without a `style` field the character gets the project's first style, as an import would."""
    async with conn.transaction():
        pid = await project_id(conn, values["project"])
        await refuse_taken_slug(conn, "characters", values["slug"])
        if style_given:
            style_id = await _style_id(conn, pid, values["style"])
        else:
            style_id = await conn.fetchval(
                "SELECT id FROM generation_styles WHERE project_id = $1 ORDER BY id LIMIT 1", pid
            )
        try:
            await conn.execute(
                """INSERT INTO characters (project_id, slug, name, design_prompt, appearance_data,
                                          style_id, target_images)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)""",
                pid, values["slug"], values["name"], values["design_prompt"], values["appearance_data"],
                style_id, values["target_images"],
            )
        except asyncpg.UniqueViolationError:
            raise Conflict(f"character slug {values['slug']!r} is taken") from None
        await catalog_changed(conn, "characters", values["slug"], "created")
    return await get_character(conn, values["slug"])


async def update_character(conn: asyncpg.Connection, slug: str, changes: dict[str, Any]) -> dict:
    async with conn.transaction():
        row = await locked_row(conn, "characters", slug)
        columns = {k: v for k, v in changes.items() if k != "style"}
        if "style" in changes:
            columns["style_id"] = await _style_id(conn, row["project_id"], changes["style"])
        if columns:  # an empty PATCH is no change: no updated_at bump, nothing for the sensor
            await update_columns(conn, "characters", row["id"], columns)
            await catalog_changed(conn, "characters", slug, "updated")
    return await get_character(conn, slug)


async def delete_character(conn: asyncpg.Connection, slug: str) -> None:
    async with conn.transaction():
        row = await locked_row(conn, "characters", slug)
        await delete_catalog_row(conn, "characters", row)
