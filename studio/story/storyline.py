"""The two one-per-project documents: the storyline and the world settings. PUT replaces them whole.

Every project has both, empty until first written: reading an unwritten one answers None (the API's
204), not "not found", which is kept for a project that does not exist.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from studio.story.sql import project_id

# table -> (its columns a PUT writes, its name in messages)
DOCUMENTS = {
    "storylines": (("title", "logline", "summary", "themes", "tone"), "storyline"),
    "world_settings": (("name", "era", "description", "locations", "rules"), "world settings"),
}


async def get_document(conn: asyncpg.Connection, table: str, project: str) -> dict | None:
    columns, _ = DOCUMENTS[table]
    row = await conn.fetchrow(
        f"SELECT {', '.join('t.' + c for c in columns)}, t.created_at, t.updated_at "
        f"FROM {table} t JOIN projects p ON p.id = t.project_id WHERE p.slug = $1",
        project,
    )
    if row is None:
        await project_id(conn, project)  # NotFound for a project that does not exist
        return None
    return dict(row)


async def put_document(conn: asyncpg.Connection, table: str, project: str, values: dict[str, Any]) -> tuple[dict, bool]:
    """Create or replace; returns the document and whether it was created."""
    columns, _ = DOCUMENTS[table]
    params = ", ".join(f"${i}" for i in range(2, len(columns) + 2))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
    async with conn.transaction():
        pid = await project_id(conn, project)
        created = await conn.fetchval(
            f"INSERT INTO {table} (project_id, {', '.join(columns)}) VALUES ($1, {params}) "
            f"ON CONFLICT (project_id) DO UPDATE SET {updates}, updated_at = now() "
            "RETURNING xmax = 0",  # xmax is 0 only on a freshly inserted row
            pid, *(values[c] for c in columns),
        )
    return await get_document(conn, table, project), created
