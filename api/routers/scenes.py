"""Scenes and their shots.

/api/scenes[?project=], /api/scenes/{slug}, /api/scenes/{slug}/shots[/{shot_id}],
PUT /api/scenes/{slug}/shots/order with every shot id of the scene, in the new order.
A scene still in an episode cannot be deleted (409 naming the episodes).
"""

from fastapi import Body, Response, status

from api.deps import ProjectFilter, Connection
from api.routers.story_routing import story_router
from api.schemas.bounds import DbId, ShotId
from api.schemas.story import SceneCreate, SceneDetail, SceneOut, SceneUpdate, ShotCreate, ShotOut, ShotUpdate
from studio.story import scenes, shots

router = story_router("scenes")


@router.get("/scenes")
async def list_scenes(conn: Connection,
                      project: ProjectFilter = None) -> list[SceneOut]:
    return await scenes.list_scenes(conn, project)


@router.get("/scenes/{slug}")
async def get_scene(conn: Connection, slug: str) -> SceneDetail:
    return await scenes.get_scene(conn, slug)


@router.post("/scenes", status_code=status.HTTP_201_CREATED)
async def create_scene(conn: Connection, body: SceneCreate) -> SceneDetail:
    return await scenes.create_scene(conn, body.model_dump())


@router.patch("/scenes/{slug}")
async def update_scene(conn: Connection, slug: str, body: SceneUpdate) -> SceneDetail:
    return await scenes.update_scene(conn, slug, body.model_dump(exclude_unset=True))


@router.delete("/scenes/{slug}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_scene(conn: Connection, slug: str) -> Response:
    await scenes.delete_scene(conn, slug)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/scenes/{slug}/shots")
async def list_shots(conn: Connection, slug: str) -> list[ShotOut]:
    return await shots.list_shots(conn, slug)


@router.post("/scenes/{slug}/shots", status_code=status.HTTP_201_CREATED)
async def create_shot(conn: Connection, slug: str, body: ShotCreate) -> ShotOut:
    return await shots.create_shot(conn, slug, body.model_dump(exclude={"position"}), body.position)


@router.put("/scenes/{slug}/shots/order")
async def reorder_shots(conn: Connection, slug: str,
                        shot_ids: list[DbId] = Body(..., description="every shot id, in the new order"),
                        ) -> list[ShotOut]:
    return await shots.reorder_shots(conn, slug, shot_ids)


@router.patch("/scenes/{slug}/shots/{shot_id:int}")  # :int: "order" is not a shot id
async def update_shot(conn: Connection, slug: str, shot_id: ShotId, body: ShotUpdate) -> ShotOut:
    return await shots.update_shot(conn, slug, shot_id, body.model_dump(exclude_unset=True))


@router.delete("/scenes/{slug}/shots/{shot_id:int}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_shot(conn: Connection, slug: str, shot_id: ShotId) -> Response:
    await shots.delete_shot(conn, slug, shot_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
