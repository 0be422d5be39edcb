"""Writing autonomy decisions and per-character state: one statement per kind of write, for all characters.

`autonomy_decisions.kind`: 'replenishment' (request, re-issue, skip, pause), 'drift' (detected, cleared),
'control' (a person paused, resumed, pinned or switched learning). `details` keeps the guard values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class DecisionRow:
    character_id: int
    kind: str
    action: str
    reason: str
    details: dict = field(default_factory=dict)
    run_key: str | None = None


async def write_decisions(conn, rows: list[DecisionRow]) -> list[int]:
    if not rows:
        return []
    # One JSON document of all rows, not a jsonb[] parameter: asyncpg writes a jsonb[] in the text array
    # format, quoting every character of every document in Python, a tenth of a 1,000-decision tick.
    document = json.dumps([[r.character_id, r.kind, r.action, r.reason, r.details, r.run_key] for r in rows])
    records = await conn.fetch(
        """INSERT INTO autonomy_decisions (character_id, kind, action, reason, details, run_key)
           SELECT (r ->> 0)::bigint, r ->> 1, r ->> 2, r ->> 3, r -> 4, r ->> 5
             FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS rows(r, n) ORDER BY n
           RETURNING id""",
        document)
    return [r["id"] for r in records]


async def pause_characters(conn, character_ids: list[int], reason: str) -> None:
    if character_ids:
        await conn.execute(
            """INSERT INTO character_autonomy (character_id, paused, paused_reason, paused_at)
               SELECT id, true, $2, now() FROM unnest($1::bigint[]) AS id
               ON CONFLICT (character_id) DO UPDATE
               SET paused = true, paused_reason = $2, paused_at = now(), updated_at = now()""",
            character_ids, reason)


async def set_drifting(conn, flags: dict[int, bool]) -> None:
    if flags:
        await conn.execute(
            """INSERT INTO character_autonomy (character_id, drifting)
               SELECT * FROM unnest($1::bigint[], $2::boolean[])
               ON CONFLICT (character_id) DO UPDATE SET drifting = EXCLUDED.drifting, updated_at = now()""",
            list(flags), list(flags.values()))


class UnknownCharacter(LookupError):
    pass


async def _character_id(conn, slug: str) -> int:
    character_id = await conn.fetchval("SELECT id FROM characters WHERE slug = $1", slug)
    if character_id is None:
        raise UnknownCharacter(f"character {slug!r} not found")
    return character_id


async def set_paused(conn, slug: str, paused: bool, who: str) -> None:
    """A person pauses or resumes; a resume starts the auto-reject count afresh. State and audit row are
    one transaction."""
    async with conn.transaction():
        character_id = await _character_id(conn, slug)
        if paused:
            await conn.execute(
                """INSERT INTO character_autonomy (character_id, paused, paused_reason, paused_at)
                   VALUES ($1, true, $2, now()) ON CONFLICT (character_id) DO UPDATE
                   SET paused = true, paused_reason = $2, paused_at = now(), updated_at = now()""",
                character_id, f"paused by {who}")
        else:
            await conn.execute(
                """INSERT INTO character_autonomy (character_id, paused, resumed_at, resumed_by, streak_after_image_id)
                   VALUES ($1, false, now(), $2, (SELECT coalesce(max(id), 0) FROM images WHERE character_id = $1))
                   ON CONFLICT (character_id) DO UPDATE
                   SET paused = false, resumed_at = now(), resumed_by = $2, updated_at = now(),
                       streak_after_image_id = EXCLUDED.streak_after_image_id""",
                character_id, who)
        await write_decisions(conn, [DecisionRow(character_id, "control", "paused" if paused else "resumed",
                                                 f"{'paused' if paused else 'resumed'} by {who}", {"by": who})])


async def set_learning(conn, slug: str, *, who: str, learning_enabled: bool | None = None,
                       pins: dict | None = None) -> None:
    async with conn.transaction():
        character_id = await _character_id(conn, slug)
        await conn.execute(
            """INSERT INTO character_autonomy (character_id, learning_enabled, pins)
               VALUES ($1, coalesce($2, true), coalesce($3, '{}'::jsonb)) ON CONFLICT (character_id) DO UPDATE
               SET learning_enabled = coalesce($2, character_autonomy.learning_enabled),
                   pins = coalesce($3, character_autonomy.pins), updated_at = now()""",
            character_id, learning_enabled, pins)
        details = {"by": who, "learning_enabled": learning_enabled, "pins": pins}
        await write_decisions(conn, [DecisionRow(character_id, "control", "learning", f"learning settings by {who}",
                                                 {k: v for k, v in details.items() if v is not None})])
