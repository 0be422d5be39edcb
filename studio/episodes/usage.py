"""Which episodes use which scenes (the running orders in `episode_scenes`)."""

from __future__ import annotations

import asyncpg


async def episodes_using_scenes(conn: asyncpg.Connection, scenes: list[str]) -> list[str]:
    rows = await conn.fetch(
        """SELECT DISTINCT e.slug FROM episode_scenes es JOIN episodes e ON e.id = es.episode_id
             JOIN scenes s ON s.id = es.scene_id WHERE s.slug = ANY($1::text[]) ORDER BY e.slug""", scenes)
    return [r["slug"] for r in rows]
