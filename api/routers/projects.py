"""Projects and what hangs off one directly: generation styles, the storyline, the world settings.

/api/projects[/{slug}], /api/projects/{slug}/styles[/{style}], /api/projects/{slug}/storyline,
/api/projects/{slug}/world. Deleting a project that has characters needs ?confirm=true.
"""

from __future__ import annotations

import asyncpg
from fastapi import Depends, Query, Response, status

from api.routers.story_routing import story_connection, story_router
from api.schemas.story import (ProjectCreate, ProjectOut, ProjectUpdate, StorylineIn, StorylineOut, StyleCreate,
                               StyleOut, StyleUpdate, WorldIn, WorldOut)
from studio.story import projects, storyline, styles

router = story_router("projects")
Conn = asyncpg.Connection


@router.get("/projects")
async def list_projects(conn: Conn = Depends(story_connection)) -> list[ProjectOut]:
    return await projects.list_projects(conn)


@router.get("/projects/{slug}")
async def get_project(slug: str, conn: Conn = Depends(story_connection)) -> ProjectOut:
    return await projects.get_project(conn, slug)


@router.post("/projects", status_code=status.HTTP_201_CREATED)
async def create_project(body: ProjectCreate, conn: Conn = Depends(story_connection)) -> ProjectOut:
    return await projects.create_project(conn, body.model_dump())


@router.patch("/projects/{slug}")
async def update_project(slug: str, body: ProjectUpdate, conn: Conn = Depends(story_connection)) -> ProjectOut:
    return await projects.update_project(conn, slug, body.model_dump(exclude_unset=True))


@router.delete("/projects/{slug}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_project(slug: str, confirm: bool = Query(False, description="needed when it has characters"),
                         conn: Conn = Depends(story_connection)) -> Response:
    await projects.delete_project(conn, slug, confirm=confirm)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/projects/{slug}/styles")
async def list_styles(slug: str, conn: Conn = Depends(story_connection)) -> list[StyleOut]:
    return await styles.list_styles(conn, slug)


@router.get("/projects/{slug}/styles/{style}")
async def get_style(slug: str, style: str, conn: Conn = Depends(story_connection)) -> StyleOut:
    return await styles.get_style(conn, slug, style)


@router.post("/projects/{slug}/styles", status_code=status.HTTP_201_CREATED)
async def create_style(slug: str, body: StyleCreate, conn: Conn = Depends(story_connection)) -> StyleOut:
    return await styles.create_style(conn, slug, body.model_dump())


@router.patch("/projects/{slug}/styles/{style}")
async def update_style(slug: str, style: str, body: StyleUpdate,
                       conn: Conn = Depends(story_connection)) -> StyleOut:
    return await styles.update_style(conn, slug, style, body.model_dump(exclude_unset=True))


@router.delete("/projects/{slug}/styles/{style}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_style(slug: str, style: str, conn: Conn = Depends(story_connection)) -> Response:
    await styles.delete_style(conn, slug, style)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/projects/{slug}/storyline")
async def get_storyline(slug: str, conn: Conn = Depends(story_connection)) -> StorylineOut:
    return await storyline.get_document(conn, "storylines", slug)


@router.put("/projects/{slug}/storyline")
async def put_storyline(slug: str, body: StorylineIn, response: Response,
                        conn: Conn = Depends(story_connection)) -> StorylineOut:
    document, created = await storyline.put_document(conn, "storylines", slug, body.model_dump())
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return document


@router.get("/projects/{slug}/world")
async def get_world(slug: str, conn: Conn = Depends(story_connection)) -> WorldOut:
    return await storyline.get_document(conn, "world_settings", slug)


@router.put("/projects/{slug}/world")
async def put_world(slug: str, body: WorldIn, response: Response, conn: Conn = Depends(story_connection)) -> WorldOut:
    document, created = await storyline.put_document(conn, "world_settings", slug, body.model_dump())
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return document
