"""LoRA training per character.

GET  /api/training/{slug}                      status: readiness, whether a training is due, the active LoRA
GET  /api/training/{slug}/checkpoints          history: each checkpoint with loss curve, samples, scores
POST /api/training/{slug}/runs                 start a training (Dagster training_job) -> 202 {run_id}
GET  /api/training/{slug}/runs                 its training runs in Dagster, newest first, with their status
GET  /api/training/runs/{run_id}               one training run: status and steps
POST /api/training/runs/{run_id}/cancel        cancel it through Dagster
PUT  /api/training/{slug}/active {version}     choose the active LoRA
GET  /api/training/{slug}/checkpoints/{version}/file   download the .safetensors
"""

from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.responses import FileResponse

from api.deps import Connection, MediaRoot
from api.lazy_route import LazyAPIRoute
from api.openapi import file_answer
from api.schemas.base import ApiInput
from api.schemas.bounds import INT32_MAX, Integer
from studio.domain.readiness import dataset_readiness

if TYPE_CHECKING:
    from studio.training.dagster_training import TrainingRuns

router = APIRouter(prefix="/api/training", tags=["training"],
                   responses={409: {"description": "the character has no generation style"}},
                   route_class=LazyAPIRoute)


class ActiveChoice(ApiInput):
    version: Integer(ge=1, le=INT32_MAX)


# The training and dataset code (repositories, models, LoRA rules, Dagster's training runs) loads when
# one of these routes is asked, not at every start of the service: no review request needs it.
def _repository():
    from studio.training import repository

    return repository


def _runs(request: Request) -> "TrainingRuns":
    from studio.training.dagster_training import TrainingRuns

    return TrainingRuns(request.app.state.settings.dagster_graphql_url)


async def _character(conn, slug: str):
    from studio.datasets.repository import load_character

    try:
        character = await load_character(conn, slug)
    except ValueError as exc:  # a character without a style
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    if character is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"character {slug!r} not found")
    return character


def _public(row: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items() if k != "id"}


@router.get("/{slug}")
async def training_status(conn: Connection, slug: str) -> dict:
    # With the kohya command, dataset TOML and caption code it brings, loaded by this route only.
    from studio.training.dataset import dataset_hash, snapshot_inputs

    character = await _character(conn, slug)
    images, architecture = await snapshot_inputs(conn, character)
    readiness = dataset_readiness(len(images), character.target_images)
    current = dataset_hash(images) if images else None
    repository = _repository()
    last = await repository.latest_dataset_hash(conn, character.id)
    active = await repository.active_checkpoint(conn, character.id)
    return {
        "character": slug, "architecture": architecture, "approved": readiness.approved,
        "target": readiness.target, "ready": readiness.ready, "dataset_hash": current,
        "trained_on": last, "training_due": readiness.ready and current is not None and current != last,
        "active": _public(active) if active else None,
        "checkpoints": len(await repository.checkpoints(conn, character.id)),
    }


@router.get("/{slug}/checkpoints")
async def list_checkpoints(conn: Connection, slug: str) -> list[dict]:
    character = await _character(conn, slug)
    return [_public(r) for r in await _repository().checkpoints(conn, character.id)]


@router.put("/{slug}/active")
async def choose_active(conn: Connection, slug: str, choice: ActiveChoice) -> dict:
    character = await _character(conn, slug)
    row = await _repository().set_active(conn, character.id, choice.version)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{slug!r} has no checkpoint version {choice.version}")
    return _public(row)


@router.get("/{slug}/checkpoints/{version}/file", responses=file_answer("application/octet-stream"))
async def download_checkpoint(conn: Connection, media_root: MediaRoot, slug: str,
                              version: int = Path(ge=1, le=INT32_MAX)) -> FileResponse:
    character = await _character(conn, slug)
    row = await _repository().checkpoint(conn, character.id, version)
    path = media_root / row["file_path"] if row else None
    if path is None or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{slug!r} has no checkpoint file for version {version}")
    return FileResponse(path, media_type="application/octet-stream", filename=path.name)


@router.post("/{slug}/runs", status_code=status.HTTP_202_ACCEPTED)
async def start_training(conn: Connection, request: Request, slug: str) -> dict:
    await _character(conn, slug)
    return {"run_id": await _runs(request).launch_training(slug)}


@router.get("/{slug}/runs")
async def list_training_runs(conn: Connection, request: Request, slug: str) -> list[dict]:
    await _character(conn, slug)
    return await _runs(request).training_runs(slug)


@router.get("/runs/{run_id}")
async def training_run(request: Request, run_id: str) -> dict:
    return await _runs(request).training_run(run_id)


@router.post("/runs/{run_id}/cancel", status_code=status.HTTP_202_ACCEPTED)
async def cancel_training(request: Request, run_id: str) -> dict:
    """202 with CANCELING while the step is interrupted (CANCELED at once for a queued run)."""
    runs = _runs(request)
    run = await runs.training_run(run_id)
    if run["finished"]:
        raise HTTPException(status.HTTP_409_CONFLICT, f"run {run_id!r} has already ended ({run['status']})")
    return {"run_id": run_id, "status": await runs.cancel(run_id)}
