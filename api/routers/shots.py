"""Planning and rendering shots.

GET  /api/motion-presets                                 the shot types with camera move, duration, motion prompt
POST /api/projects/{project}/scene-proposals             the planner's proposal (nothing is written but the proposal)
GET  /api/scene-proposals/{id};  POST .../accept          accept it, optionally edited (written whole or not at all)
GET  /api/scenes/{scene}/render-status                   per shot: status, stale and why; ETA in minutes
PATCH /api/scenes/{scene}/shots/{key}/render             edit what the picture depends on; answers what became stale
POST /api/scenes/{scene}/shots/{key}/rerender            render this shot again on the next scene render
GET  /api/scenes/{scene}/shots/{key}/clip                the clip (HTTP range requests, so a browser can seek)
GET  /api/scenes/{scene}/shots/{key}/frames/{which}      keyframe | start | last, as PNG
"""

from typing import Literal

from fastapi import Body, HTTPException
from fastapi.responses import FileResponse
from pydantic import Field

from api.deps import AppSettings, Connection, MediaRoot
from api.openapi import file_answer
from api.schemas.base import ApiInput
from api.schemas.bounds import EXACT_INT_MAX, Boolean, DbId, Integer, JsonObject, Number, ProposalId
from api.routers.story_routing import story_router
from studio.clients.ollama import OllamaError, OllamaTimeout, OllamaUnreachable
from studio.domain.motion_presets import MOTION_PRESETS
from studio.domain.scene_plan import MAX_SHOT_S, MIN_SHOT_S

router = story_router("shots")


class ProposalRequest(ApiInput):
    scenes: Integer(ge=1, le=12) = 2


class AcceptRequest(ApiInput):
    breakdown: JsonObject | None = None  # the person's edited breakdown; omitted: as proposed


class DialogueLine(ApiInput):
    character: str = Field(min_length=1)
    line: str = Field(min_length=1)


class ShotRenderEdit(ApiInput):
    shot_type: Literal[tuple(MOTION_PRESETS)] | None = None  # type: ignore[valid-type]
    motion_prompt: str | None = None
    first_frame: str | None = None
    cut: Boolean | None = None
    seed: Integer(ge=0, le=EXACT_INT_MAX) | None = None
    keyframe_image_id: DbId | None = None
    duration_s: Number(ge=MIN_SHOT_S, le=MAX_SHOT_S) | None = None
    dialogue: list[DialogueLine] | None = None


# Null clears a seed (the default one again) or a picked keyframe; for a field that cannot be empty it
# means "as it is", like leaving the field out.
CLEARABLE = ("seed", "keyframe_image_id")


def _renderer(settings):
    # The renderers bring numpy and the ffmpeg clip code: imported when a route needs one, not at start-up.
    from studio.shots.factory import shot_renderer

    return shot_renderer(settings)


# Shot status (with the shot repository and the rendering rules) and the scene planner (with its
# proposals) load when one of these routes is asked, not at every start of the service: no review
# request needs them.
def _shot_status():
    from studio.shots import status

    return status


def _proposals():
    from studio.story import proposals  # brings the planner (studio/story/planner.py)

    return proposals


@router.get("/motion-presets")
async def motion_presets() -> list[dict]:
    return [p.as_dict() for p in MOTION_PRESETS.values()]


@router.post("/projects/{project}/scene-proposals", status_code=201)
async def propose_scenes(conn: Connection, settings: AppSettings, project: str,
                         body: ProposalRequest = Body(default_factory=ProposalRequest)) -> dict:
    from studio.story.planner import PlanningFailed, scene_planner

    proposals = _proposals()
    context = await proposals.story_context(conn, project)
    try:
        proposal = await scene_planner(settings).propose(context, body.scenes)
    except PlanningFailed as failure:
        raise HTTPException(502, detail={"message": str(failure), "errors": failure.errors}) from None
    except (OllamaUnreachable, OllamaTimeout) as error:  # Echo's own errors map in api/errors.py
        raise HTTPException(503, detail=f"scene planning: {error}", headers={"Retry-After": "30"}) from None
    except OllamaError as error:
        raise HTTPException(502, detail=f"scene planning: {error}") from None
    return await proposals.store_proposal(conn, project, proposal.breakdown, proposal.backend, proposal.attempts)


@router.get("/scene-proposals/{proposal_id}")
async def get_proposal(conn: Connection, proposal_id: ProposalId) -> dict:
    return await _proposals().get_proposal(conn, proposal_id)


@router.post("/scene-proposals/{proposal_id}/accept")
async def accept_proposal(conn: Connection, proposal_id: ProposalId,
                          body: AcceptRequest = Body(default_factory=AcceptRequest)) -> dict:
    return {"scenes": await _proposals().accept_proposal(conn, proposal_id, body.breakdown)}


@router.get("/scenes/{scene}/render-status")
async def render_status(conn: Connection, settings: AppSettings, media_root: MediaRoot, scene: str) -> dict:
    return await _shot_status().render_status(conn, scene, _renderer(settings), media_root)


@router.patch("/scenes/{scene}/shots/{key}/render")
async def edit_shot(conn: Connection, settings: AppSettings, media_root: MediaRoot, scene: str, key: str,
                    body: ShotRenderEdit) -> dict:
    changes = {field: value for field, value in body.model_dump(exclude_unset=True).items()
               if value is not None or field in CLEARABLE}
    shot_status = _shot_status()
    await shot_status.edit_shot(conn, scene, key, changes)
    return await shot_status.render_status(conn, scene, _renderer(settings), media_root)


@router.post("/scenes/{scene}/shots/{key}/rerender")
async def rerender_shot(conn: Connection, settings: AppSettings, media_root: MediaRoot, scene: str, key: str) -> dict:
    shot_status = _shot_status()
    await shot_status.force_rerender(conn, scene, key)
    return await shot_status.render_status(conn, scene, _renderer(settings), media_root)


def _file(media_root, relative: str | None, what: str, media_type: str) -> FileResponse:
    if not relative or not (media_root / relative).is_file():
        raise HTTPException(404, detail=f"{what} has not been rendered yet")
    return FileResponse(media_root / relative, media_type=media_type)


@router.get("/scenes/{scene}/shots/{key}/clip", responses=file_answer("video/mp4"))
async def shot_clip(conn: Connection, media_root: MediaRoot, scene: str, key: str) -> FileResponse:
    shot = await _shot_status().shot_by_key(conn, scene, key)
    return _file(media_root, shot["clip_path"], f"the clip of shot {key}", "video/mp4")


@router.get("/scenes/{scene}/shots/{key}/frames/{which}", responses=file_answer("image/png"))
async def shot_frame(conn: Connection, media_root: MediaRoot, scene: str, key: str,
                     which: Literal["keyframe", "start", "last"]) -> FileResponse:
    shot = await _shot_status().shot_by_key(conn, scene, key)
    if which == "start":
        relative = await conn.fetchval("SELECT start_frame_path FROM shots WHERE id = $1", shot["id"])
    else:
        relative = shot["keyframe_path" if which == "keyframe" else "last_frame_path"]
    return _file(media_root, relative, f"the {which} frame of shot {key}", "image/png")
