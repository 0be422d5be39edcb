"""Per-project autonomy thresholds (table `autonomy_settings`); a project without a row has the defaults."""

from __future__ import annotations

from dataclasses import fields

from studio.domain.replenishment import Thresholds

FIELDS = tuple(f.name for f in fields(Thresholds))


def thresholds_from_row(row) -> Thresholds:
    if row is None or row["enabled"] is None:
        return Thresholds()
    return Thresholds(**{name: row[name] for name in FIELDS})


async def all_thresholds(conn) -> dict[int, Thresholds]:
    rows = await conn.fetch("SELECT project_id, " + ", ".join(FIELDS) + " FROM autonomy_settings")
    return {r["project_id"]: thresholds_from_row(r) for r in rows}


async def project_id(conn, slug: str) -> int | None:
    return await conn.fetchval("SELECT id FROM projects WHERE slug = $1", slug)


async def get_thresholds(conn, project: int) -> Thresholds:
    row = await conn.fetchrow("SELECT " + ", ".join(FIELDS) + " FROM autonomy_settings WHERE project_id = $1",
                              project)
    return thresholds_from_row(row)


async def put_thresholds(conn, project: int, changes: dict) -> Thresholds:
    """Change some thresholds of a project (the rest keep their current value); returns them all."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown autonomy setting {sorted(unknown)[0]!r} (known: {', '.join(FIELDS)})")
    merged = {**(await get_thresholds(conn, project)).as_dict(), **changes}
    names = list(FIELDS)
    await conn.execute(
        f"""INSERT INTO autonomy_settings (project_id, {", ".join(names)})
            VALUES ($1, {", ".join(f"${i}" for i in range(2, len(names) + 2))})
            ON CONFLICT (project_id) DO UPDATE SET
            {", ".join(f"{n} = EXCLUDED.{n}" for n in names)}, updated_at = now()""",
        project, *[merged[n] for n in names])
    return Thresholds(**merged)
