"""A route built on first use (api/lazy_route.py) answers and documents exactly as FastAPI's own."""

from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Path, Query
from fastapi.exceptions import FastAPIError
from fastapi.routing import APIRoute
from pydantic import Field

from api.app import add_routes, create_app
from api.errors import install_error_handlers
from api.lazy_route import LazyAPIRoute
from api.schemas.base import ApiInput, ApiModel
from tests.api_server import serve_api


class Scene(ApiInput):
    title: str = Field(min_length=1, max_length=40)
    shots: int = Field(1, ge=1, le=12)


class SceneOut(ApiModel):
    project: str
    number: int
    title: str
    shots: int
    tags: list[str]


def _app(route_class: type[APIRoute]) -> FastAPI:
    router = APIRouter(prefix="/api", tags=["scenes"], route_class=route_class)

    @router.put("/projects/{project}/scenes/{number}")
    async def put_scene(project: Annotated[str, Path(pattern=r"^[a-z]+$")], number: Annotated[int, Path(ge=1)],
                        scene: Scene, tag: Annotated[list[str], Query(max_length=3)] = []) -> SceneOut:
        """Write a scene."""
        return SceneOut(project=project, number=number, tags=tag, **scene.model_dump())

    @router.get("/projects/{project}/scenes", status_code=200)
    async def list_scenes(project: str, limit: Annotated[int, Query(ge=1, le=50)] = 10) -> list[SceneOut]:
        return [SceneOut(project=project, number=n, title="t", shots=1, tags=[]) for n in range(1, limit + 1)]

    app = FastAPI()
    install_error_handlers(app)
    add_routes(app, router)
    return app


REQUESTS = [
    ("PUT", "/api/projects/demo/scenes/3?tag=a&tag=b", {"title": "Dawn", "shots": 4}),
    ("PUT", "/api/projects/demo/scenes/0", {"title": "Dawn"}),
    ("PUT", "/api/projects/Demo!/scenes/x", {"title": ""}),
    ("PUT", "/api/projects/demo/scenes/3", {"title": "Dawn", "mood": "calm"}),
    ("PUT", "/api/projects/demo/scenes/3?tag=a&tag=b&tag=c&tag=d", {"title": "Dawn", "shots": 13}),
    ("PUT", "/api/projects/demo/scenes/3", None),
    ("GET", "/api/projects/demo/scenes?limit=2", None),
    ("GET", "/api/projects/demo/scenes?limit=51", None),
    ("DELETE", "/api/projects/demo/scenes", None),
    ("GET", "/api/projects/demo/nothing", None),
]


@pytest.fixture(scope="module")
def clients():
    with serve_api(_app(APIRoute)) as eager_url, serve_api(_app(LazyAPIRoute)) as lazy_url, \
            httpx.Client(base_url=eager_url) as eager, httpx.Client(base_url=lazy_url) as lazy:
        yield eager, lazy


@pytest.mark.parametrize(("method", "url", "body"), REQUESTS)
def test_answers_as_a_route_built_at_declaration(clients, method, url, body):
    eager, lazy = (client.request(method, url, json=body) for client in clients)
    assert (lazy.status_code, lazy.headers.get("allow"), lazy.content) == \
           (eager.status_code, eager.headers.get("allow"), eager.content)


def test_documents_as_a_route_built_at_declaration():
    assert _app(LazyAPIRoute).openapi() == _app(APIRoute).openapi()


def test_every_route_of_the_service_builds_and_takes_no_answer_model_as_its_body():
    for route in create_app().routes:
        if isinstance(route, LazyAPIRoute):
            assert route.dependant.call is route.endpoint and callable(route.app), route.path
            body = route.body_field.field_info.annotation if route.body_field else None
            # An answer model is built on first use, and would warn at its first request as a body.
            assert not (isinstance(body, type) and issubclass(body, ApiModel)), route.path


def test_a_route_read_from_many_threads_at_once_is_built_once():
    route = next(r for r in _app(LazyAPIRoute).routes if isinstance(r, LazyAPIRoute))
    with ThreadPoolExecutor(8) as threads:
        dependants = list(threads.map(lambda _: route.dependant, range(32)))
    assert all(dependant is dependants[0] for dependant in dependants)
    assert not hasattr(route, "no_such_attribute")


def test_a_route_that_cannot_be_built_says_why_each_time_it_is_used():
    router = APIRouter(route_class=LazyAPIRoute)

    class Thing:
        """Not a type pydantic knows."""

    @router.get("/broken")
    async def broken(thing: Thing) -> dict:
        return {}

    route = router.routes[0]
    for _ in range(2):
        with pytest.raises(FastAPIError, match="Invalid args for response field"):
            route.dependant
