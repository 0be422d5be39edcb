"""Trigger and follow Dagster runs: one partition of one asset, or a named job with its config.

`POST /api/runs {asset, partition}` or `{job, partition?, config?}` -> 202 {run_id, warning?};
`GET /api/runs?job=&status=&partition=&origin=&limit=` -> newest first;
`GET /api/runs/{run_id}` -> status, step progress, the current step, and for long steps done/total
and an ETA (table run_progress). Every run launched here is tagged origin "api"; sensor runs show
origin "sensor". When the daemon is not running, a launch says so (`warning`) and so does readiness.
Errors: unknown asset, job or run 404, unknown partition 409, Dagster webserver unreachable 503,
Dagster refusing the launch 502.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import Field

from api.deps import Connection, Dagster
from api.lazy_route import LazyAPIRoute
from api.schemas.base import ApiInput, ApiModel
from api.schemas.bounds import JsonObject
from api.routers.health import Probe, add_readiness_probe
from studio.dagster_runs import DagsterRuns, DagsterRunsError

router = APIRouter(prefix="/api/runs", tags=["runs"], route_class=LazyAPIRoute)

RunStatusName = Literal["QUEUED", "NOT_STARTED", "STARTING", "STARTED", "SUCCESS", "FAILURE", "CANCELING",
                        "CANCELED", "MANAGED"]
Origin = Literal["api", "demo", "sensor", "ui", "schedule"]


# Either one partition of one asset (no config) or a named job: two shapes, so the schema says which
# bodies are valid (a body with both `asset` and `job` matches neither).
class AssetRunRequest(ApiInput):
    asset: str = Field(min_length=1, max_length=200, examples=["characters"])
    partition: str = Field(min_length=1, max_length=200, examples=["mika"])


class JobRunRequest(ApiInput):
    job: str = Field(min_length=1, max_length=200, examples=["dataset_batch_job"])
    partition: str | None = Field(None, min_length=1, max_length=200, examples=["mika"])
    # The job's run config, e.g. {"ops": {"dataset_images": {"config": {"count": 12}}}}.
    config: JsonObject = Field(default_factory=dict)


class RunStep(ApiModel):
    key: str
    status: str | None
    start_time: float | None
    end_time: float | None


class StepProgress(ApiModel):
    step: str
    done: int
    total: int
    counts: dict[str, int]
    last_item: str
    eta_s: float | None
    updated_time: float


class RunStatus(ApiModel):
    run_id: str
    job: str
    assets: list[str]
    partition: str | None
    origin: str
    status: str
    finished: bool
    created_time: float
    start_time: float | None
    end_time: float | None
    steps: list[RunStep]
    current_step: str | None = None
    progress: list[StepProgress] = []
    warning: str | None = None


class RunSummary(ApiModel):
    run_id: str
    job: str
    status: str
    finished: bool
    partition: str | None
    origin: str
    created_time: float
    start_time: float | None
    end_time: float | None


async def _daemon_warning(dagster: DagsterRuns) -> str | None:
    try:
        return await dagster.daemon_problem()
    except DagsterRunsError:
        return None  # the launch itself succeeded; not knowing is no reason to fail it


@router.post("", status_code=status.HTTP_202_ACCEPTED)
async def launch_run(request: AssetRunRequest | JobRunRequest, dagster: Dagster) -> dict:
    if isinstance(request, JobRunRequest):
        run_id = await dagster.launch_job_run(request.job, request.partition, request.config)
    else:
        run_id = await dagster.launch_partition_run(request.asset, request.partition)
    answer: dict = {"run_id": run_id}
    if warning := await _daemon_warning(dagster):
        answer["warning"] = warning
    return answer


@router.get("")
async def list_runs(dagster: Dagster, job: str | None = Query(None, max_length=200),
                    status: Annotated[list[RunStatusName] | None, Query()] = None,
                    partition: str | None = Query(None, max_length=200), origin: Origin | None = None,
                    limit: int = Query(50, ge=1, le=500)) -> list[RunSummary]:
    runs = await dagster.list_runs(job=job, statuses=status, partition=partition, origin=origin, limit=limit)
    return [RunSummary(**run) for run in runs]


@router.get("/{run_id}")
async def run_status(run_id: str, dagster: Dagster, conn: Connection) -> RunStatus:
    # The progress table's reader (with the progress rules) loads when a run is asked, not at every start.
    from studio.run_progress import run_progress

    run = RunStatus(**await dagster.run_status(run_id))
    run.current_step = next((s.key for s in run.steps if s.status == "IN_PROGRESS"), None)
    run.progress = [StepProgress(**p) for p in await run_progress(conn, run_id)]
    if run.status in ("QUEUED", "NOT_STARTED"):
        run.warning = await _daemon_warning(dagster)
    return run


async def _daemon_probe(pool, settings) -> dict:
    try:
        problem = await DagsterRuns(settings.dagster_graphql_url, timeout_s=1.0, connect_timeout_s=1.0).daemon_problem()
    except DagsterRunsError as exc:
        return {"status": "error", "error": str(exc)[:200]}
    return {"status": "error", "error": problem} if problem else {"status": "ok"}


# Readiness says when queued runs would wait forever; the review service itself works without it.
add_readiness_probe(Probe("dagster_daemon", _daemon_probe, lambda settings: False))
