"""A character's voice in the database: the one place that reads and writes `characters.voice`."""

from __future__ import annotations

from typing import Any

import asyncpg

from studio.domain.voices import voice_for
from studio.story.errors import InvalidField, NotFound
from studio.story.sql import catalog_changed, locked_row


def _answer(slug: str, configured: dict[str, Any]) -> dict[str, Any]:
    return {"character": slug, "configured": configured, "voice": voice_for(slug, configured).settings()}


async def character_voice(conn: asyncpg.Connection, slug: str) -> dict[str, Any]:
    configured = await conn.fetchval("SELECT voice FROM characters WHERE slug = $1", slug)
    if configured is None:
        raise NotFound(f"character {slug!r} not found")
    return _answer(slug, configured)


async def set_character_voice(conn: asyncpg.Connection, slug: str, configured: dict[str, Any]) -> dict[str, Any]:
    """Replace the configured voice; the change and its catalog event are one transaction."""
    try:
        voice_for(slug, configured)
    except ValueError as exc:
        raise InvalidField(("voice",), str(exc)) from None
    async with conn.transaction():
        row = await locked_row(conn, "characters", slug)
        if row["voice"] != configured:
            await conn.execute("UPDATE characters SET voice = $2, updated_at = now() WHERE id = $1",
                               row["id"], configured)
            await catalog_changed(conn, "characters", slug, "updated")
    return _answer(slug, configured)
