"""Small SQL helpers shared by the story modules: lookups by slug, partial updates, events."""

from __future__ import annotations

from typing import Any

import asyncpg

from studio.domain.events import CATALOG_CHANGED
from studio.story.errors import Conflict, NotFound

# Tables whose slugs are unique across projects (Dagster partition keys), and their names in messages.
GLOBAL_SLUG_TABLES = {"characters": "character", "scenes": "scene", "episodes": "episode"}


async def project_id(conn: asyncpg.Connection, slug: str) -> int:
    found = await conn.fetchval("SELECT id FROM projects WHERE slug = $1", slug)
    if found is None:
        raise NotFound(f"project {slug!r} not found")
    return found


async def locked_row(conn: asyncpg.Connection, table: str, slug: str) -> asyncpg.Record:
    """The row of a character, scene or episode, locked for the rest of the transaction."""
    row = await conn.fetchrow(f"SELECT * FROM {table} WHERE slug = $1 FOR UPDATE", slug)
    if row is None:
        raise NotFound(f"{GLOBAL_SLUG_TABLES[table]} {slug!r} not found")
    return row


async def refuse_taken_slug(conn: asyncpg.Connection, table: str, slug: str) -> None:
    """409 before the insert, naming the owner; the UNIQUE key still guards against a race."""
    owner = await conn.fetchval(
        f"SELECT p.slug FROM {table} t JOIN projects p ON p.id = t.project_id WHERE t.slug = $1", slug
    )
    if owner is not None:
        raise Conflict(f"{GLOBAL_SLUG_TABLES[table]} slug {slug!r} is taken (project {owner!r})")


async def update_columns(conn: asyncpg.Connection, table: str, row_id: int, values: dict[str, Any]) -> None:
    """Column names come from the request models (fixed in code), values are always parameters."""
    if not values:
        return
    sets = ", ".join(f"{column} = ${i}" for i, column in enumerate(values, 2))
    await conn.execute(f"UPDATE {table} SET {sets}, updated_at = now() WHERE id = $1", row_id, *values.values())


async def catalog_changed(conn: asyncpg.Connection, table: str, slug: str, action: str) -> None:
    # character_id stays NULL: the event must outlive a deleted character (that FK cascades).
    await conn.execute(
        "INSERT INTO studio_events (kind, payload) VALUES ($1, $2)",
        CATALOG_CHANGED, {"table": table, "slug": slug, "action": action},
    )


async def delete_catalog_row(conn: asyncpg.Connection, table: str, row: asyncpg.Record) -> None:
    """Delete a character, scene or episode and tell the partition sensor, in the caller's transaction."""
    await conn.execute(f"DELETE FROM {table} WHERE id = $1", row["id"])
    await catalog_changed(conn, table, row["slug"], "deleted")
