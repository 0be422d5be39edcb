"""Characters and their reference images.

/api/characters[?project=], /api/characters/{slug}, POST /api/characters/{slug}/references (multipart
`file`), DELETE /api/characters/{slug}/references/{index} (0-based, as listed in reference_images).
"""


from fastapi import File, HTTPException, Path, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.deps import ProjectFilter, AppSettings, MediaRoot
from api.deps import Connection
from api.routers.story_routing import story_router
from api.schemas.bounds import INT32_MAX
from api.schemas.story import CharacterCreate, CharacterOut, CharacterUpdate, ReferenceAdded
from studio.story import characters, references
from studio.uploads import UploadRejected, check_image

router = story_router("characters")


@router.get("/characters")
async def list_characters(conn: Connection,
                          project: ProjectFilter = None) -> list[CharacterOut]:
    return await characters.list_characters(conn, project)


@router.get("/characters/{slug}")
async def get_character(conn: Connection, slug: str) -> CharacterOut:
    return await characters.get_character(conn, slug)


@router.post("/characters", status_code=status.HTTP_201_CREATED)
async def create_character(conn: Connection, body: CharacterCreate) -> CharacterOut:
    return await characters.create_character(conn, body.model_dump(),
                                             style_given="style" in body.model_fields_set)


@router.patch("/characters/{slug}")
async def update_character(conn: Connection, slug: str, body: CharacterUpdate) -> CharacterOut:
    return await characters.update_character(conn, slug, body.model_dump(exclude_unset=True))


@router.delete("/characters/{slug}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_character(conn: Connection, slug: str) -> Response:
    await characters.delete_character(conn, slug)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/characters/{slug}/references", status_code=status.HTTP_201_CREATED, response_model=ReferenceAdded)
async def add_reference(conn: Connection, settings: AppSettings, media_root: MediaRoot, slug: str,
                        file: UploadFile = File(..., description="PNG, JPEG or WebP")):
    limit = settings.max_upload_bytes
    data = await file.read(limit + 1)  # one byte over is enough to know it is too large
    if len(data) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"file: over the {limit}-byte limit")
    try:
        # Decoding a large image is seconds of CPU: off the event loop.
        image = await run_in_threadpool(check_image, data, max_bytes=limit)
    except UploadRejected as exc:
        error = {"type": "value_error", "loc": ["body", "file"], "msg": str(exc)}
        return JSONResponse({"detail": [error]}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    return await references.add_reference(conn, slug, image, media_root)


@router.delete("/characters/{slug}/references/{index}")
async def remove_reference(conn: Connection, slug: str,
                           index: int = Path(ge=0, le=INT32_MAX, description="0-based")) -> CharacterOut:
    await references.remove_reference(conn, slug, index)
    return await characters.get_character(conn, slug)
