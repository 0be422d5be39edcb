"""Insert-or-update by natural key that can tell created, updated and unchanged apart.

Re-importing an unchanged spec must be a no-op (no new rows, no touched updated_at), which
`INSERT ... ON CONFLICT DO UPDATE` cannot report, so we read the row under lock and compare.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import asyncpg

Action = Literal["created", "updated", "unchanged"]


def _same(old: Any, new: Any) -> bool:
    if isinstance(new, float) and old is not None:
        return abs(float(old) - new) < 1e-6
    if isinstance(new, (list, dict)):
        return json.dumps(old, sort_keys=True) == json.dumps(new, sort_keys=True)
    return old == new


async def upsert(
    conn: asyncpg.Connection, table: str, key: dict[str, Any], values: dict[str, Any]
) -> tuple[int, Action]:
    """Table and column names come from code, never from input; values are always parameters."""
    where = " AND ".join(f"{col} = ${i}" for i, col in enumerate(key, 1))
    cols = list(values)
    row = await conn.fetchrow(
        f"SELECT id, {', '.join(cols)} FROM {table} WHERE {where} FOR UPDATE", *key.values()
    )
    if row is None:
        all_cols = list(key) + cols
        params = ", ".join(f"${i}" for i in range(1, len(all_cols) + 1))
        new_id = await conn.fetchval(
            f"INSERT INTO {table} ({', '.join(all_cols)}) VALUES ({params}) RETURNING id",
            *key.values(),
            *values.values(),
        )
        return new_id, "created"
    changed = {c: v for c, v in values.items() if not _same(row[c], v)}
    if not changed:
        return row["id"], "unchanged"
    sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(changed, 2))
    await conn.execute(
        f"UPDATE {table} SET {sets}, updated_at = now() WHERE id = $1", row["id"], *changed.values()
    )
    return row["id"], "updated"
