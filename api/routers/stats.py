"""Dataset figures per character: review outcomes, approval rate, GPU time, against the target.

One aggregate over `images` (FILTER clauses, one pass); projects are the driving table so an
existing project without characters answers an empty list while an unknown one answers 404.
"""

from __future__ import annotations

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel

from api.deps import get_pool

router = APIRouter(prefix="/api/stats", tags=["stats"])

CHARACTER_STATS_SQL = """
SELECT p.slug AS project, c.slug AS character, c.name, c.target_images AS target,
       count(i.id) FILTER (WHERE i.status = 'approved') AS approved,
       count(i.id) FILTER (WHERE i.status = 'pending') AS pending,
       count(i.id) FILTER (WHERE i.status = 'rejected') AS rejected,
       coalesce(sum(i.gpu_seconds), 0)::float8 AS gpu_seconds
FROM projects p
LEFT JOIN characters c ON c.project_id = p.id
LEFT JOIN images i ON i.character_id = c.id
WHERE $1::text IS NULL OR p.slug = $1
GROUP BY p.id, c.id
ORDER BY p.slug, c.slug
"""


class CharacterStats(BaseModel):
    project: str
    character: str
    name: str
    approved: int
    pending: int
    rejected: int
    approval_rate: float | None  # approved / (approved + rejected); None while nothing is decided
    gpu_seconds: float
    target: int


def _approval_rate(approved: int, rejected: int) -> float | None:
    decided = approved + rejected
    return round(approved / decided, 4) if decided else None


@router.get("/characters")
async def character_stats(project: str | None = Query(None, description="project slug; all projects if omitted"),
                          pool: asyncpg.Pool = Depends(get_pool)) -> list[CharacterStats]:
    rows = await pool.fetch(CHARACTER_STATS_SQL, project)
    if project is not None and not rows:
        raise HTTPException(status_code=404, detail=f"project {project!r} not found")
    return [CharacterStats(**{**row, "gpu_seconds": round(row["gpu_seconds"], 3),
                              "approval_rate": _approval_rate(row["approved"], row["rejected"])})
            for row in rows if row["character"] is not None]
