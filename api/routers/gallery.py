"""The gallery's routes: one character's whole dataset, not only what waits for review.

GET /api/gallery/{character}                 counts against the target, "complete", the batches
GET /api/gallery/{character}/images?status=&source=&min_score=&max_score=&batch=&limit=&after=
                                             every image, newest first, by keyset (pass `next` as `after`)
GET /api/images/{image_id}/provenance        what made an image and every decision people took on it

Read only and thin: studio.review.queries does the work; the page is api/static/gallery.*.
"""

import json
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import Response

from api.deps import Pool
from api.lazy_route import LazyAPIRoute
from api.schemas.bounds import ImageId
from api.schemas.gallery import GallerySummary, ImageDetail
from api.schemas.review import PendingPage
from studio.domain.readiness import dataset_readiness
from studio.review import queries

router = APIRouter(prefix="/api", tags=["gallery"], route_class=LazyAPIRoute)

CharacterSlug = Annotated[str, Path(min_length=1, max_length=200, description="character slug")]


def _no_character(character: str) -> HTTPException:
    return HTTPException(404, detail=f"character {character!r} not found")


@router.get("/gallery/{character}")
async def summary(character: CharacterSlug, pool: Pool) -> GallerySummary:
    """A character's images by status against its target, whether its dataset is complete, its batches."""
    found = await queries.character_summary(pool, character)
    if found is None:
        raise _no_character(character)
    readiness = dataset_readiness(found["approved"], found["target"])
    return GallerySummary(**found, missing=readiness.missing, complete=readiness.ready)


@router.get("/gallery/{character}/images", response_model=PendingPage)
async def images(character: CharacterSlug, pool: Pool,
                 status: Literal["pending", "approved", "rejected"] | None = None,
                 source: Literal["generated", "uploaded"] | None = None,
                 min_score: float | None = Query(None, ge=0, le=1),
                 max_score: float | None = Query(None, ge=0, le=1),
                 batch: str | None = Query(None, pattern=queries.BATCH_PATTERN,
                                           description="the Dagster run id of a batch (see the summary)"),
                 limit: int = Query(50, ge=1, le=queries.MAX_PAGE),
                 after: str | None = Query(None, max_length=64,
                                           json_schema_extra={"pattern": queries.CURSOR_PATTERN})) -> Response:
    """Every image of a character, newest first; pass the answer's `next` as `after` for the next page."""
    page = await queries.gallery_page(pool, character=character, status=status, source=source,
                                      min_score=min_score, max_score=max_score, batch=batch, limit=limit,
                                      after=after)
    if not page.items and not await queries.character_exists(pool, character):
        raise _no_character(character)  # an empty page is an answer only for a character that exists
    # PostgreSQL's JSON as is, like the review queue (studio/review/queries.py says why).
    return Response(page.to_json(), media_type="application/json")


@router.get("/images/{image_id}/provenance")
async def provenance(image_id: ImageId, pool: Pool) -> ImageDetail:
    """An image with what made it (batch, model files, workflow, ComfyUI prompt) and every decision on it."""
    async with pool.acquire() as conn:  # the image and its provenance from one snapshot of the row
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            document = await queries.image_json(conn, image_id)
            detail = await queries.image_provenance(conn, image_id)
    if document is None or detail is None:
        raise HTTPException(404, detail=f"image {image_id} not found")
    return ImageDetail.model_validate({"image": json.loads(document), **detail})
