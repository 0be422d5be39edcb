"""Generation styles of a project (checkpoint, LoRA, sampler, size, prompt templates)."""

from __future__ import annotations

from typing import Any

import asyncpg

from studio.spec.models import LearningBoundsSpec
from studio.story.errors import Conflict, NotFound
from studio.story.sql import catalog_changed, project_id, update_columns

# real columns read through numeric so 6.5 stays 6.5 and 0.1 does not come back as 0.100000001
STYLE_SQL = """
SELECT s.id, s.slug, s.checkpoint, s.lora_name, s.lora_strength::numeric::float8 AS lora_strength,
       s.cfg::numeric::float8 AS cfg, s.steps, s.sampler, s.scheduler, s.width, s.height,
       s.positive_template, s.negative_template, s.learning_bounds, s.created_at, s.updated_at
  FROM generation_styles s JOIN projects p ON p.id = s.project_id
 WHERE p.slug = $1
"""


def _columns(values: dict[str, Any]) -> dict[str, Any]:
    """The request's nested `lora` is two columns; an explicit null lora clears both. Learning bounds
    are stored as the learner reads them (null: around the style's own values)."""
    columns = {k: v for k, v in values.items() if k != "lora"}
    if "learning_bounds" in values:
        bounds = values["learning_bounds"]
        columns["learning_bounds"] = LearningBoundsSpec.model_validate(bounds).as_bounds() if bounds else {}
    if "lora" in values:
        lora = values["lora"]
        columns["lora_name"] = lora["name"] if lora else None
        columns["lora_strength"] = lora["strength"] if lora else 1.0
    return columns


def _shape(row: asyncpg.Record) -> dict:
    style = {k: v for k, v in dict(row).items() if k not in ("id", "lora_name", "lora_strength")}
    style["lora"] = {"name": row["lora_name"], "strength": row["lora_strength"]} if row["lora_name"] else None
    bounds = row["learning_bounds"]
    style["learning_bounds"] = LearningBoundsSpec.from_bounds(bounds).model_dump(exclude_none=True) if bounds else None
    return style


async def list_styles(conn: asyncpg.Connection, project: str) -> list[dict]:
    await project_id(conn, project)
    return [_shape(r) for r in await conn.fetch(STYLE_SQL + " ORDER BY s.slug", project)]


async def get_style(conn: asyncpg.Connection, project: str, slug: str) -> dict:
    row = await conn.fetchrow(STYLE_SQL + " AND s.slug = $2", project, slug)
    if row is None:
        await project_id(conn, project)
        raise NotFound(f"style {slug!r} not found in project {project!r}")
    return _shape(row)


async def create_style(conn: asyncpg.Connection, project: str, values: dict[str, Any]) -> dict:
    columns = {"project_id": await project_id(conn, project), **_columns(values)}
    params = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    try:
        await conn.execute(
            f"INSERT INTO generation_styles ({', '.join(columns)}) VALUES ({params})", *columns.values()
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"style slug {values['slug']!r} is taken in project {project!r}") from None
    return await get_style(conn, project, values["slug"])


async def update_style(conn: asyncpg.Connection, project: str, slug: str, changes: dict[str, Any]) -> dict:
    async with conn.transaction():
        row = await conn.fetchrow(STYLE_SQL + " AND s.slug = $2 FOR UPDATE OF s", project, slug)
        if row is None:
            await project_id(conn, project)
            raise NotFound(f"style {slug!r} not found in project {project!r}")
        await update_columns(conn, "generation_styles", row["id"], _columns(changes))
    return await get_style(conn, project, slug)


async def delete_style(conn: asyncpg.Connection, project: str, slug: str) -> None:
    async with conn.transaction():
        row = await conn.fetchrow(STYLE_SQL + " AND s.slug = $2 FOR UPDATE OF s", project, slug)
        if row is None:
            await project_id(conn, project)
            raise NotFound(f"style {slug!r} not found in project {project!r}")
        # The FK sets their style_id to NULL: those characters changed, so the sensor hears of it.
        users = await conn.fetch("SELECT slug FROM characters WHERE style_id = $1", row["id"])
        await conn.execute("DELETE FROM generation_styles WHERE id = $1", row["id"])
        for user in users:
            await catalog_changed(conn, "characters", user["slug"], "updated")
