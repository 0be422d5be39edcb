"""Shots of a scene, kept in a dense running order 1..n.

(scene_id, position) is UNIQUE and not deferrable, and CHECK (position >= 1) rules out negative
temporaries, so rows cannot swap places directly: the rows that move first go above the highest
position in use or wanted, then take their final places (two statements, one transaction).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from studio.domain.shot_keys import free_derived_key
from studio.story.errors import InvalidField, NotFound
from studio.story.sql import catalog_changed, locked_row, update_columns

SHOT_SQL = """
SELECT id, position, description, camera, duration_s::numeric::float8 AS duration_s, characters, dialogue,
       status, clip_path, last_frame_path, seed, input_hash, gpu_seconds::numeric::float8 AS gpu_seconds,
       shot_key, shot_type, motion_prompt, cut, rendered_duration_s::numeric::float8 AS rendered_duration_s,
       created_at, updated_at
  FROM shots
"""


async def check_cast(conn: asyncpg.Connection, project_id: int, shot: dict[str, Any], loc: tuple = ()) -> None:
    """Characters and dialogue speakers of a shot must be characters of the scene's project."""
    cast = {r["slug"] for r in await conn.fetch("SELECT slug FROM characters WHERE project_id = $1", project_id)}
    for j, character in enumerate(shot.get("characters") or []):
        if character not in cast:
            raise InvalidField((*loc, "characters", j), f"{character!r} is not a character of this project")
    for k, line in enumerate(shot.get("dialogue") or []):
        if line["character"] not in cast:
            raise InvalidField((*loc, "dialogue", k, "character"),
                               f"{line['character']!r} is not a character of this project")


async def insert_shot(conn: asyncpg.Connection, scene_id: int, position: int, shot: dict[str, Any]) -> int:
    # A key the scene already has is a unique violation; a shot given none gets the key its
    # description derives, as a spec import would give it.
    key = shot.get("key")
    if key is None:
        taken = {r["shot_key"] for r in await conn.fetch("SELECT shot_key FROM shots WHERE scene_id = $1", scene_id)}
        key = free_derived_key(shot["description"], taken)
    return await conn.fetchval(
        """INSERT INTO shots (scene_id, position, description, camera, duration_s, characters, dialogue, shot_key)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id""",
        scene_id, position, shot["description"], shot["camera"], shot["duration_s"],
        shot["characters"], shot["dialogue"], key,
    )


async def _assign_positions(conn: asyncpg.Connection, scene_id: int, ordered_ids: list[int],
                            first: int = 1) -> None:
    """Give `ordered_ids` the positions first, first+1, ...; the scene's other shots must already
    sit below `first`. The detour above every position in use keeps the UNIQUE key intact."""
    if not ordered_ids:
        return
    await conn.execute(
        """UPDATE shots SET position = position + $3 + (SELECT max(position) FROM shots WHERE scene_id = $1)
            WHERE scene_id = $1 AND id = ANY($2::bigint[])""",
        scene_id, ordered_ids, first + len(ordered_ids),
    )
    await conn.execute(
        """UPDATE shots s SET position = o.n + $3 - 1, updated_at = now()
             FROM unnest($2::bigint[]) WITH ORDINALITY AS o(id, n)
            WHERE s.id = o.id AND s.scene_id = $1""",
        scene_id, ordered_ids, first,
    )


async def _ids_in_order(conn: asyncpg.Connection, scene_id: int) -> list[int]:
    return [r["id"] for r in await conn.fetch("SELECT id FROM shots WHERE scene_id = $1 ORDER BY position", scene_id)]


async def list_shots(conn: asyncpg.Connection, scene: str) -> list[dict]:
    scene_id = await conn.fetchval("SELECT id FROM scenes WHERE slug = $1", scene)
    if scene_id is None:
        raise NotFound(f"scene {scene!r} not found")
    return await shots_of(conn, scene_id)


async def shots_of(conn: asyncpg.Connection, scene_id: int) -> list[dict]:
    return [dict(r) for r in await conn.fetch(SHOT_SQL + " WHERE scene_id = $1 ORDER BY position", scene_id)]


async def _shot(conn: asyncpg.Connection, scene: str, scene_id: int, shot_id: int) -> dict:
    row = await conn.fetchrow(SHOT_SQL + " WHERE scene_id = $1 AND id = $2", scene_id, shot_id)
    if row is None:
        raise NotFound(f"scene {scene!r} has no shot {shot_id}")
    return dict(row)


async def create_shot(conn: asyncpg.Connection, scene: str, shot: dict[str, Any], position: int | None) -> dict:
    """Appended when `position` is None, else inserted there, the later shots moving down one."""
    async with conn.transaction():
        row = await locked_row(conn, "scenes", scene)
        await check_cast(conn, row["project_id"], shot)
        ids = await _ids_in_order(conn, row["id"])
        if position is None:
            position = len(ids) + 1
        elif position > len(ids) + 1:
            raise InvalidField(("position",), f"the scene has {len(ids)} shots: position {position} "
                                              f"would leave a gap (at most {len(ids) + 1})")
        await _assign_positions(conn, row["id"], ids[position - 1:], first=position + 1)
        shot_id = await insert_shot(conn, row["id"], position, shot)
        await catalog_changed(conn, "shots", scene, "created")
        return await _shot(conn, scene, row["id"], shot_id)


async def update_shot(conn: asyncpg.Connection, scene: str, shot_id: int, changes: dict[str, Any]) -> dict:
    async with conn.transaction():
        row = await locked_row(conn, "scenes", scene)
        await _shot(conn, scene, row["id"], shot_id)
        await check_cast(conn, row["project_id"], changes)
        if changes:
            # The spec's and the API's `key` is the column shot_key; a null key keeps the shot's own (it is
            # the shot's identity, and the spec's "no key" means "derive one", not "none").
            columns = {("shot_key" if name == "key" else name): value for name, value in changes.items()
                       if not (name == "key" and value is None)}
            await update_columns(conn, "shots", shot_id, columns)
            await catalog_changed(conn, "shots", scene, "updated")
        return await _shot(conn, scene, row["id"], shot_id)


async def delete_shot(conn: asyncpg.Connection, scene: str, shot_id: int) -> None:
    async with conn.transaction():
        row = await locked_row(conn, "scenes", scene)
        await _shot(conn, scene, row["id"], shot_id)
        await conn.execute("DELETE FROM shots WHERE id = $1", shot_id)
        await _assign_positions(conn, row["id"], await _ids_in_order(conn, row["id"]))
        await catalog_changed(conn, "shots", scene, "deleted")


async def reorder_shots(conn: asyncpg.Connection, scene: str, shot_ids: list[int]) -> list[dict]:
    """`shot_ids` in their new order must be a permutation of the scene's shots."""
    async with conn.transaction():
        row = await locked_row(conn, "scenes", scene)
        current = await _ids_in_order(conn, row["id"])
        seen: set[int] = set()
        for i, shot_id in enumerate(shot_ids):
            if shot_id in seen:
                raise InvalidField((i,), f"shot {shot_id} is listed twice")
            if shot_id not in current:
                raise InvalidField((i,), f"shot {shot_id} is not a shot of scene {scene!r}")
            seen.add(shot_id)
        missing = [shot_id for shot_id in current if shot_id not in seen]
        if missing:
            raise InvalidField((), f"the new order leaves out shots {missing}: list every shot of the scene once")
        await _assign_positions(conn, row["id"], shot_ids)
        await catalog_changed(conn, "shots", scene, "reordered")
        return await shots_of(conn, row["id"])
