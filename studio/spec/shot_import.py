"""A scene's shots from its spec, matched to the stored shots by key, never by position.

A stored shot whose key the spec still has keeps its row, and with it its render state (clip, last
frame, input hash, seed) and what a person set through the API (shot type, motion prompt, cut). A
stored shot under a key the spec does not name (made before keys were derived, or through the API)
is taken over by the spec shot with the same description, and gets that shot's key. What is left
over was removed from the spec and is deleted.

(scene_id, position) is UNIQUE and not deferrable: rows that move first go above every position in
use, then take their places.
"""

from __future__ import annotations

import asyncpg

from studio.db.upsert import upsert
from studio.domain.shot_keys import normalized_description, shot_keys
from studio.spec.models import ShotSpec


def _match(stored: list[asyncpg.Record], keys: list[str], shots: list[ShotSpec]) -> list[asyncpg.Record | None]:
    by_key = {row["shot_key"]: row for row in stored}
    matched: list[asyncpg.Record | None] = [by_key.get(key) for key in keys]
    wanted = set(keys)
    orphans = [row for row in stored if row["shot_key"] not in wanted]
    for i, shot in enumerate(shots):
        if matched[i] is None:
            text = normalized_description(shot.description)
            row = next((r for r in orphans if normalized_description(r["description"]) == text), None)
            if row is not None:
                orphans.remove(row)
                matched[i] = row
    return matched


async def import_shots(conn: asyncpg.Connection, scene_id: int, shots: list[ShotSpec]) -> dict[str, int]:
    """Counts by action (created, updated, unchanged, removed). Runs inside the import's transaction."""
    keys = shot_keys((shot.key, shot.description) for shot in shots)
    stored = await conn.fetch(
        "SELECT id, shot_key, description, position FROM shots WHERE scene_id = $1 ORDER BY position FOR UPDATE",
        scene_id)
    matched = _match(stored, keys, shots)
    kept = {row["id"] for row in matched if row is not None}
    removed = await conn.execute("DELETE FROM shots WHERE scene_id = $1 AND NOT (id = ANY($2::bigint[]))",
                                 scene_id, list(kept))
    moving = [row["id"] for position, row in enumerate(matched, 1) if row is not None and row["position"] != position]
    if moving:
        await conn.execute(
            """UPDATE shots SET position = position + $3 + (SELECT max(position) FROM shots WHERE scene_id = $1)
                WHERE scene_id = $1 AND id = ANY($2::bigint[])""", scene_id, moving, len(shots) + 1)
    counts = {"removed": int(removed.split()[-1])}
    for position, (shot, key, row) in enumerate(zip(shots, keys, matched), 1):
        values = {"position": position, "shot_key": key, "description": shot.description, "camera": shot.camera,
                  "duration_s": shot.duration_s, "characters": shot.characters,
                  "dialogue": [d.model_dump() for d in shot.dialogue]}
        if row is None:
            _, action = await upsert(conn, "shots", {"scene_id": scene_id, "shot_key": key},
                                     {k: v for k, v in values.items() if k != "shot_key"})
        else:
            _, action = await upsert(conn, "shots", {"id": row["id"]}, values)
        counts[action] = counts.get(action, 0) + 1
    return counts
