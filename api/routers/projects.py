"""Projects and what hangs off one directly: generation styles, the storyline, the world settings.

/api/projects[/{slug}], /api/projects/{slug}/styles[/{style}], /api/projects/{slug}/storyline,
/api/projects/{slug}/world. Deleting a project that has characters needs ?confirm=true.
"""

from fastapi import Query, Response, status

from api.deps import Connection
from api.routers.story_routing import story_router
from api.schemas.story import (ProjectCreate, ProjectOut, ProjectUpdate, StorylineIn, StorylineOut, StyleCreate,
                               StyleOut, StyleUpdate, WorldIn, WorldOut)
from studio.story import projects, storyline, styles

router = story_router("projects")


@router.get("/projects")
async def list_projects(conn: Connection) -> list[ProjectOut]:
    return await projects.list_projects(conn)


@router.get("/projects/{slug}")
async def get_project(conn: Connection, slug: str) -> ProjectOut:
    return await projects.get_project(conn, slug)


@router.post("/projects", status_code=status.HTTP_201_CREATED)
async def create_project(conn: Connection, body: ProjectCreate) -> ProjectOut:
    return await projects.create_project(conn, body.model_dump())


@router.patch("/projects/{slug}")
async def update_project(conn: Connection, slug: str, body: ProjectUpdate) -> ProjectOut:
    return await projects.update_project(conn, slug, body.model_dump(exclude_unset=True))


@router.delete("/projects/{slug}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_project(conn: Connection, slug: str,
                         confirm: bool = Query(False, description="needed when it has characters")) -> Response:
    await projects.delete_project(conn, slug, confirm=confirm)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/projects/{slug}/styles")
async def list_styles(conn: Connection, slug: str) -> list[StyleOut]:
    return await styles.list_styles(conn, slug)


@router.get("/projects/{slug}/styles/{style}")
async def get_style(conn: Connection, slug: str, style: str) -> StyleOut:
    return await styles.get_style(conn, slug, style)


@router.post("/projects/{slug}/styles", status_code=status.HTTP_201_CREATED)
async def create_style(conn: Connection, slug: str, body: StyleCreate) -> StyleOut:
    return await styles.create_style(conn, slug, body.model_dump())


@router.patch("/projects/{slug}/styles/{style}")
async def update_style(conn: Connection, slug: str, style: str, body: StyleUpdate) -> StyleOut:
    return await styles.update_style(conn, slug, style, body.model_dump(exclude_unset=True))


@router.delete("/projects/{slug}/styles/{style}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_style(conn: Connection, slug: str, style: str) -> Response:
    await styles.delete_style(conn, slug, style)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _written(conn: Connection, table: str, slug: str) -> dict | Response:
    document = await storyline.get_document(conn, table, slug)
    return Response(status_code=status.HTTP_204_NO_CONTENT) if document is None else document


@router.get("/projects/{slug}/storyline", responses={204: {"description": "not written yet (a PUT writes it)"}})
async def get_storyline(conn: Connection, slug: str) -> StorylineOut:
    return await _written(conn, "storylines", slug)


@router.put("/projects/{slug}/storyline")
async def put_storyline(conn: Connection, slug: str, body: StorylineIn, response: Response) -> StorylineOut:
    document, created = await storyline.put_document(conn, "storylines", slug, body.model_dump())
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return document


@router.get("/projects/{slug}/world", responses={204: {"description": "not written yet (a PUT writes it)"}})
async def get_world(conn: Connection, slug: str) -> WorldOut:
    return await _written(conn, "world_settings", slug)


@router.put("/projects/{slug}/world")
async def put_world(conn: Connection, slug: str, body: WorldIn, response: Response) -> WorldOut:
    document, created = await storyline.put_document(conn, "world_settings", slug, body.model_dump())
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return document
