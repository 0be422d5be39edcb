"""Trigger and follow Dagster runs: one partition of one asset per run, any asset of the code location.

`POST /api/runs {asset, partition}` -> 202 {run_id}; `GET /api/runs/{run_id}` -> status and step progress.
Errors: unknown asset or run 404, unknown partition 422, Dagster webserver unreachable 503,
Dagster refusing the launch 502.
"""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from api.deps import Dagster

router = APIRouter(prefix="/api/runs", tags=["runs"])


class RunRequest(BaseModel):
    asset: str = Field(min_length=1, max_length=200, examples=["characters"])
    partition: str = Field(min_length=1, max_length=200, examples=["mika"])


class RunStep(BaseModel):
    key: str
    status: str | None
    start_time: float | None
    end_time: float | None


class RunStatus(BaseModel):
    run_id: str
    job: str
    assets: list[str]
    partition: str | None
    status: str
    finished: bool
    created_time: float
    start_time: float | None
    end_time: float | None
    steps: list[RunStep]


@router.post("", status_code=status.HTTP_202_ACCEPTED)
async def launch_run(request: RunRequest, dagster: Dagster) -> dict:
    return {"run_id": await dagster.launch_partition_run(request.asset, request.partition)}


@router.get("/{run_id}")
async def run_status(run_id: str, dagster: Dagster) -> RunStatus:
    return RunStatus(**await dagster.run_status(run_id))
