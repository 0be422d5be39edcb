"""Episodes: a numbered, titled running order of scenes with transitions between them."""

from __future__ import annotations

from typing import Any

import asyncpg

from studio.story.errors import Conflict, InvalidField, NotFound
from studio.story.sql import (catalog_changed, delete_catalog_row, locked_row, project_id, refuse_taken_slug,
                              update_columns)

EPISODE_SQL = """
SELECT e.id, e.slug, p.slug AS project, e.number, e.season, e.title, e.synopsis, e.created_at, e.updated_at
  FROM episodes e JOIN projects p ON p.id = e.project_id
"""


async def running_orders(conn: asyncpg.Connection, episode_ids: list[int]) -> dict[int, list[dict]]:
    rows = await conn.fetch(
        """SELECT es.episode_id, s.slug AS scene, es.position, es.transition,
                  es.transition_s::numeric::float8 AS transition_s
             FROM episode_scenes es JOIN scenes s ON s.id = es.scene_id
            WHERE es.episode_id = ANY($1::bigint[]) ORDER BY es.episode_id, es.position""",
        episode_ids,
    )
    orders: dict[int, list[dict]] = {episode_id: [] for episode_id in episode_ids}
    for row in rows:
        orders[row["episode_id"]].append({k: v for k, v in row.items() if k != "episode_id"})
    return orders


async def list_episodes(conn: asyncpg.Connection, project: str | None) -> list[dict]:
    if project is not None:
        await project_id(conn, project)
    rows = await conn.fetch(
        EPISODE_SQL + " WHERE $1::text IS NULL OR p.slug = $1 ORDER BY p.slug, e.season, e.number", project
    )
    orders = await running_orders(conn, [r["id"] for r in rows])
    return [{**r, "scenes": orders[r["id"]]} for r in rows]


async def get_episode(conn: asyncpg.Connection, slug: str) -> dict:
    row = await conn.fetchrow(EPISODE_SQL + " WHERE e.slug = $1", slug)
    if row is None:
        raise NotFound(f"episode {slug!r} not found")
    return {**row, "scenes": (await running_orders(conn, [row["id"]]))[row["id"]]}


async def _refuse_taken_number(conn: asyncpg.Connection, pid: int, season: int, number: int,
                               episode_id: int | None = None) -> None:
    taken_by = await conn.fetchval(
        "SELECT slug FROM episodes WHERE project_id = $1 AND season = $2 AND number = $3 AND id IS DISTINCT FROM $4",
        pid, season, number, episode_id,
    )
    if taken_by:
        raise Conflict(f"season {season} episode {number} is already {taken_by!r}")


async def _replace_running_order(conn: asyncpg.Connection, pid: int, episode_id: int,
                                 scenes: list[dict[str, Any]], loc: tuple = ()) -> None:
    wanted = [entry["scene"] for entry in scenes]
    found = {r["slug"]: r["id"] for r in await conn.fetch(
        "SELECT slug, id FROM scenes WHERE project_id = $1 AND slug = ANY($2::text[])", pid, wanted)}
    for i, scene in enumerate(wanted):
        if scene not in found:
            raise InvalidField((*loc, i, "scene"), f"{scene!r} is not a scene of this project")
        if scene in wanted[:i]:
            raise InvalidField((*loc, i, "scene"), f"scene {scene!r} is listed twice")
    # Replace the list whole: a reorder row by row would trip the (episode, scene) unique key.
    await conn.execute("DELETE FROM episode_scenes WHERE episode_id = $1", episode_id)
    await conn.executemany(
        "INSERT INTO episode_scenes (episode_id, scene_id, position, transition, transition_s) "
        "VALUES ($1, $2, $3, $4, $5)",
        [(episode_id, found[e["scene"]], k, e["transition"], e["transition_s"]) for k, e in enumerate(scenes, 1)],
    )


async def create_episode(conn: asyncpg.Connection, values: dict[str, Any]) -> dict:
    async with conn.transaction():
        pid = await project_id(conn, values["project"])
        await refuse_taken_slug(conn, "episodes", values["slug"])
        await _refuse_taken_number(conn, pid, values["season"], values["number"])
        try:
            episode_id = await conn.fetchval(
                """INSERT INTO episodes (project_id, slug, number, season, title, synopsis)
                   VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
                pid, values["slug"], values["number"], values["season"], values["title"], values["synopsis"],
            )
        except asyncpg.UniqueViolationError:
            raise Conflict(f"episode {values['slug']!r} clashes with one created at the same time") from None
        await _replace_running_order(conn, pid, episode_id, values["scenes"], ("scenes",))
        await catalog_changed(conn, "episodes", values["slug"], "created")
        return await get_episode(conn, values["slug"])


async def update_episode(conn: asyncpg.Connection, slug: str, changes: dict[str, Any]) -> dict:
    async with conn.transaction():
        row = await locked_row(conn, "episodes", slug)
        if "season" in changes or "number" in changes:
            await _refuse_taken_number(conn, row["project_id"], changes.get("season", row["season"]),
                                       changes.get("number", row["number"]), row["id"])
        if changes:
            await update_columns(conn, "episodes", row["id"], changes)
            await catalog_changed(conn, "episodes", slug, "updated")
        return await get_episode(conn, slug)


async def set_running_order(conn: asyncpg.Connection, slug: str, scenes: list[dict[str, Any]]) -> dict:
    async with conn.transaction():
        row = await locked_row(conn, "episodes", slug)
        await _replace_running_order(conn, row["project_id"], row["id"], scenes)
        await conn.execute("UPDATE episodes SET updated_at = now() WHERE id = $1", row["id"])
        await catalog_changed(conn, "episodes", slug, "updated")
        return await get_episode(conn, slug)


async def delete_episode(conn: asyncpg.Connection, slug: str) -> None:
    async with conn.transaction():
        row = await locked_row(conn, "episodes", slug)
        await delete_catalog_row(conn, "episodes", row)
