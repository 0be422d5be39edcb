"""Episodes and their running order of scenes.

/api/episodes[?project=], /api/episodes/{slug}, PUT /api/episodes/{slug}/scenes with the whole
ordered list of {scene, transition, transition_s}, which replaces the old one in one transaction.
"""

from fastapi import Body, Response, status

from api.deps import ProjectFilter, Connection
from api.routers.story_routing import story_router
from api.schemas.story import EpisodeCreate, EpisodeOut, EpisodeSceneIn, EpisodeUpdate
from studio.story import episodes

router = story_router("episodes")


@router.get("/episodes")
async def list_episodes(conn: Connection,
                        project: ProjectFilter = None) -> list[EpisodeOut]:
    return await episodes.list_episodes(conn, project)


@router.get("/episodes/{slug}")
async def get_episode(conn: Connection, slug: str) -> EpisodeOut:
    return await episodes.get_episode(conn, slug)


@router.post("/episodes", status_code=status.HTTP_201_CREATED)
async def create_episode(conn: Connection, body: EpisodeCreate) -> EpisodeOut:
    return await episodes.create_episode(conn, body.model_dump())


@router.patch("/episodes/{slug}")
async def update_episode(conn: Connection, slug: str, body: EpisodeUpdate) -> EpisodeOut:
    return await episodes.update_episode(conn, slug, body.model_dump(exclude_unset=True))


@router.put("/episodes/{slug}/scenes")
async def set_running_order(conn: Connection,
                            slug: str, running_order: list[EpisodeSceneIn] = Body(...)) -> EpisodeOut:
    return await episodes.set_running_order(conn, slug, [entry.model_dump() for entry in running_order])


@router.delete("/episodes/{slug}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_episode(conn: Connection, slug: str) -> Response:
    await episodes.delete_episode(conn, slug)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
