"""Trigger and follow Dagster runs: one partition of one asset per run, any asset of the code location.

`POST /api/runs {asset, partition}` -> 202 {run_id}; `GET /api/runs/{run_id}` -> status and step progress.
Errors: unknown asset or run 404, unknown partition 422, Dagster webserver unreachable 503,
Dagster refusing the launch 502.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field

from api.deps import get_api_settings
from api.settings import ApiSettings
from studio.dagster_runs import (DagsterRuns, DagsterRunsError, DagsterUnreachable, RunNotFound, UnknownAsset,
                                 UnknownPartition)

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


async def get_dagster_runs(api_settings: ApiSettings = Depends(get_api_settings)) -> DagsterRuns:
    return DagsterRuns(api_settings.dagster_graphql_url)


def _http_error(exc: DagsterRunsError) -> HTTPException:
    code = {UnknownAsset: 404, RunNotFound: 404, UnknownPartition: 422, DagsterUnreachable: 503}.get(type(exc), 502)
    return HTTPException(status_code=code, detail=str(exc))


@router.post("", status_code=status.HTTP_202_ACCEPTED)
async def launch_run(request: RunRequest, dagster: DagsterRuns = Depends(get_dagster_runs)) -> dict:
    try:
        return {"run_id": await dagster.launch_partition_run(request.asset, request.partition)}
    except DagsterRunsError as exc:
        raise _http_error(exc) from None


@router.get("/{run_id}")
async def run_status(run_id: str, dagster: DagsterRuns = Depends(get_dagster_runs)) -> RunStatus:
    try:
        return RunStatus(**await dagster.run_status(run_id))
    except DagsterRunsError as exc:
        raise _http_error(exc) from None
