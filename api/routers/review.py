"""The review service's routes: the queue, image files and thumbnails, decisions, re-review, upload.

Thin on purpose: each route checks its input and calls studio.review.*; domain errors become HTTP
answers in api/errors.py (404 unknown, 409 already decided / duplicate, 422 invalid).
"""

import asyncio
from pathlib import Path

import asyncpg
from fastapi import APIRouter, File, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, Response

from api.deps import AppSettings, CurrentUser, MediaRoot, Pool, VisionOllama
from api.lazy_route import LazyAPIRoute
from api.openapi import file_answer
from api.query_params import query_parameters, read_query
from api.schemas.review import (ApproveIn, BulkIn, BulkOut, CharacterCounts, ImageOut, PendingPage, ReassignIn,
                                RejectIn)
from api.schemas.bounds import ImageId, ThumbSize
from api.schemas.review_query import PendingQuery
from studio.review import decisions, queries
from studio.review.ingest import ingest_image
from studio.review.media_files import ensure_thumbnail, media_type, resolve_media_path
from studio.review.rereview import rereview

router = APIRouter(prefix="/api", tags=["review"], route_class=LazyAPIRoute)

FILE_HEADERS = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}


def _json(document: bytes, status_code: int = 200) -> Response:
    return Response(document, status_code=status_code, media_type="application/json")


async def _image_out(pool: asyncpg.Pool, image_id: int, status_code: int = 200) -> Response:
    document = await queries.image_json(pool, image_id)
    if document is None:
        raise HTTPException(404, detail=f"image {image_id} not found")
    return _json(document, status_code)


# Image routes return PostgreSQL's JSON as is (studio/review/queries.py says why); response_model
# keeps the OpenAPI schema.
@router.get("/review/pending", response_model=PendingPage,
            openapi_extra={"parameters": query_parameters(PendingQuery)})
async def pending(request: Request, pool: Pool) -> Response:
    # The page the review screen asks for constantly: api/query_params.py says why it reads its own.
    query = read_query(PendingQuery, request)
    return _json((await queries.pending_page(pool, **query.model_dump())).to_json())


@router.get("/review/counts")
async def counts(pool: Pool, project: str | None = None) -> list[CharacterCounts]:
    return [CharacterCounts(**r) for r in await queries.counts(pool, project)]


async def _media_file(pool: asyncpg.Pool, media_root: Path, image_id: int) -> tuple[Path, str]:
    stored = await queries.image_file(pool, image_id)
    path = resolve_media_path(media_root, stored[0]) if stored else None
    if path is None:  # unknown id, missing file and a path outside the media root look the same
        raise HTTPException(404, detail=f"no file for image {image_id}")
    return path, stored[1]


@router.get("/images/{image_id}/file")
async def image_file(image_id: ImageId, pool: Pool, media_root: MediaRoot) -> FileResponse:
    path, _ = await _media_file(pool, media_root, image_id)
    return FileResponse(path, media_type=media_type(path), headers=FILE_HEADERS)


@router.get("/images/{image_id}/thumb", responses=file_answer("image/webp"))
async def image_thumb(image_id: ImageId, pool: Pool, media_root: MediaRoot,
                      size: ThumbSize = 256) -> FileResponse:
    path, sha256 = await _media_file(pool, media_root, image_id)
    try:
        thumb, created = await asyncio.to_thread(ensure_thumbnail, media_root, path, sha256, size)
    except (OSError, ValueError) as exc:  # a stored file Pillow cannot read
        raise HTTPException(422, detail=f"image {image_id} cannot be thumbnailed: {type(exc).__name__}") from None
    return FileResponse(thumb, media_type="image/webp",
                        headers={**FILE_HEADERS, "X-Thumbnail-Cache": "miss" if created else "hit"})


@router.post("/images/bulk")
async def bulk(body: BulkIn, user: CurrentUser, pool: Pool) -> BulkOut:
    outcome = await decisions.decide_many(pool, body.action, body.ids, user.name, body.categories, body.comment)
    return BulkOut(decided=outcome.decided, conflicts=outcome.conflicts, missing=outcome.missing)


@router.post("/images/{image_id}/approve", response_model=ImageOut)
async def approve(image_id: ImageId, user: CurrentUser, pool: Pool, body: ApproveIn | None = None) -> Response:
    await decisions.approve(pool, image_id, user.name)
    return await _image_out(pool, image_id)


@router.post("/images/{image_id}/reject", response_model=ImageOut)
async def reject(image_id: ImageId, body: RejectIn, user: CurrentUser, pool: Pool) -> Response:
    await decisions.reject(pool, image_id, user.name, body.categories, body.comment)
    return await _image_out(pool, image_id)


@router.post("/images/{image_id}/reassign", response_model=ImageOut)
async def reassign(image_id: ImageId, body: ReassignIn, user: CurrentUser, pool: Pool) -> Response:
    await decisions.reassign(pool, image_id, body.character, user.name)
    return await _image_out(pool, image_id)


@router.post("/images/{image_id}/review", response_model=ImageOut)
async def review_again(image_id: ImageId, pool: Pool, settings: AppSettings, ollama: VisionOllama) -> Response:
    await rereview(pool, image_id, media_root=settings.media_root, backend=settings.backend, ollama=ollama)
    return await _image_out(pool, image_id)


@router.post("/characters/{slug}/images", status_code=201, response_model=ImageOut)
async def upload_image(slug: str, pool: Pool, media_root: MediaRoot, settings: AppSettings,
                       file: UploadFile = File(...)) -> Response:
    limit = settings.max_upload_bytes
    data = await file.read(limit + 1)  # one byte more than allowed is enough to know it is too big
    if len(data) > limit:
        raise HTTPException(413, detail=f"{file.filename or 'file'}: over the {limit}-byte upload limit")
    image_id = await ingest_image(pool, slug, data, media_root=media_root, max_bytes=limit)
    return await _image_out(pool, image_id, status_code=201)
