"""Per-project autonomy thresholds (table `autonomy_settings`); a project without a row has the defaults.

Two ways in, one write path: the API's PATCH and the spec's `autonomy:` section both hand a
`ThresholdChanges` to `put_thresholds`; what either leaves out keeps its current value.
"""

from dataclasses import fields

from pydantic import BaseModel, ConfigDict, Field

from studio.domain.replenishment import Thresholds
from studio.spec.json_types import Boolean, Integer, Number

FIELDS = tuple(f.name for f in fields(Thresholds))
INT_MAX = 2**31 - 1  # integer columns: a larger number would be a database error, not a clear refusal


class ThresholdChanges(BaseModel):
    """Some thresholds of a project, each checked against what its column holds; None keeps the current value."""

    model_config = ConfigDict(extra="forbid")
    enabled: Boolean | None = None
    batch_size: Integer(ge=1, le=64) | None = Field(None, description="images per requested batch")
    cooldown_seconds: Integer(ge=0, le=INT_MAX) | None = Field(
        None, description="seconds between two batches of a character")
    daily_batch_limit: Integer(ge=0, le=INT_MAX) | None = Field(None, description="batches per character per UTC day")
    daily_gpu_seconds: Number(ge=0, le=1e9) | None = Field(None, description="GPU seconds per project per UTC day")
    pending_buffer: Integer(ge=0, le=INT_MAX) | None = Field(
        None, description="images waiting for a person before generation waits")
    pause_after_auto_rejects: Integer(ge=1, le=INT_MAX) | None = Field(
        None, description="auto-rejects in a row that pause a character")
    learning_enabled: Boolean | None = None
    drift_window: Integer(ge=5, le=10_000) | None = Field(None, description="latest decided images the drift test reads")
    # A real column keeps ~7 digits: an alpha nearer 0 or 1 would be stored as 0 or 1, which it refuses.
    drift_alpha: Number(ge=1e-6, le=0.999999) | None = Field(None, description="significance level of the drift test")
    request_ttl_seconds: Integer(ge=0, le=INT_MAX) | None = Field(
        None, description="how long an unlaunched request is re-issued")

    def changes(self) -> dict:
        return self.model_dump(exclude_none=True)


def thresholds_from_row(row) -> Thresholds:
    if row is None or row["enabled"] is None:
        return Thresholds()
    # `real` columns give back 0.009999999776 for 0.01: six digits are what a float4 holds.
    return Thresholds(**{name: float(f"{row[name]:.6g}") if isinstance(row[name], float) else row[name]
                         for name in FIELDS})


async def all_thresholds(conn) -> dict[int, Thresholds]:
    rows = await conn.fetch("SELECT project_id, " + ", ".join(FIELDS) + " FROM autonomy_settings")
    return {r["project_id"]: thresholds_from_row(r) for r in rows}


async def project_id(conn, slug: str) -> int | None:
    return await conn.fetchval("SELECT id FROM projects WHERE slug = $1", slug)


async def _row(conn, project: int):
    return await conn.fetchrow("SELECT " + ", ".join(FIELDS) + " FROM autonomy_settings WHERE project_id = $1",
                               project)


async def get_thresholds(conn, project: int) -> Thresholds:
    return thresholds_from_row(await _row(conn, project))


async def put_thresholds(conn, project: int, changes: ThresholdChanges | dict) -> tuple[Thresholds, str]:
    """Change some thresholds of a project (the rest keep their current value).

    Returns them all and what happened: 'created', 'updated' or 'unchanged' (then nothing is written,
    so a re-imported spec leaves the row as it was)."""
    if isinstance(changes, dict):
        changes = ThresholdChanges.model_validate(changes)  # ValidationError names the field and the bound
    row = await _row(conn, project)
    current = thresholds_from_row(row)
    merged = Thresholds(**{**current.as_dict(), **changes.changes()})
    if row is not None and merged == current:
        return current, "unchanged"
    names = list(FIELDS)
    await conn.execute(
        f"""INSERT INTO autonomy_settings (project_id, {", ".join(names)})
            VALUES ($1, {", ".join(f"${i}" for i in range(2, len(names) + 2))})
            ON CONFLICT (project_id) DO UPDATE SET
            {", ".join(f"{n} = EXCLUDED.{n}" for n in names)}, updated_at = now()""",
        project, *[getattr(merged, n) for n in names])
    return merged, "created" if row is None else "updated"
