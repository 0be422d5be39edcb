"""Which characters' approved sets changed since a cursor: decisions (a person's or the quality
gate's) are `image_decided` events; the approved_images sensor re-materializes those partitions."""

from __future__ import annotations

import asyncpg

from studio.domain.events import IMAGE_DECIDED


async def decided_since(conn: asyncpg.Connection, cursor: int, limit: int = 10_000) -> tuple[dict[str, int], int]:
    """({character slug: its newest decision event id}, the new cursor) for events after `cursor`."""
    rows = await conn.fetch(
        """WITH recent AS (SELECT id, character_id FROM studio_events
                            WHERE kind = $1 AND id > $2 ORDER BY id LIMIT $3)
           SELECT c.slug, max(r.id) AS last_id, (SELECT max(id) FROM recent) AS cursor
             FROM recent r JOIN characters c ON c.id = r.character_id GROUP BY c.slug""",
        IMAGE_DECIDED, cursor, limit)
    if not rows:
        return {}, cursor
    return {r["slug"]: r["last_id"] for r in rows}, rows[0]["cursor"]
