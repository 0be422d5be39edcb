"""Dataset figures per character: review outcomes, approval rate, GPU time, against the target.

The figures are the review queue's counts (studio.review.queries.counts); an unknown project
raises ProjectNotFound, which the app's error handlers answer with 404.
"""

import asyncpg
from fastapi import APIRouter, Depends, Query

from api.deps import get_pool
from api.lazy_route import LazyAPIRoute
from api.schemas.base import ApiModel
from studio.review import queries

router = APIRouter(prefix="/api/stats", tags=["stats"], route_class=LazyAPIRoute)


class CharacterStats(ApiModel):
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
    rows = await queries.counts(pool, project)
    return [CharacterStats(**{**row, "gpu_seconds": round(row["gpu_seconds"], 3),
                              "approval_rate": _approval_rate(row["approved"], row["rejected"])})
            for row in rows]
