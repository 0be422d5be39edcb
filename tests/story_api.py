"""The story routers on the real app, served by uvicorn over a fresh database with the example
imported; helpers the story API tests share (422 field checks, catalog events, images)."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from PIL import Image

from api.app import create_app
from api.routers import characters, episodes, projects, scenes
from studio.cli import main as studio
from studio.settings import load_settings
from studio.db.pool import connect
from tests.api_server import serve_api, with_routers
from tests.conftest import EXAMPLE_SPEC

MAX_UPLOAD_BYTES = 200_000
STORY_ROUTERS = (projects.router, characters.router, scenes.router, episodes.router)


@dataclass
class StoryApi:
    client: httpx.Client
    db_url: str
    media_root: Path

    def query(self, sql: str, *args) -> list[dict]:
        async def run() -> list[dict]:
            async with connect(self.db_url) as conn:
                return [dict(r) for r in await conn.fetch(sql, *args)]

        return asyncio.run(run())

    def catalog_events(self) -> list[dict]:
        return [r["payload"] for r in self.query(
            "SELECT payload FROM studio_events WHERE kind = 'catalog_changed' ORDER BY id")]


@pytest.fixture
def story_api(studio_env, db_url) -> StoryApi:
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    settings = load_settings()
    app = with_routers(create_app(settings.with_values(max_upload_bytes=MAX_UPLOAD_BYTES), database_url=db_url), *STORY_ROUTERS)
    with serve_api(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield StoryApi(client, db_url, settings.media_root)


def assert_invalid(response: httpx.Response, *loc) -> str:
    """A 422 whose errors include one at body.<loc>; returns that error's message."""
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    for error in errors:
        if tuple(error["loc"]) == ("body", *loc):
            return error["msg"]
    raise AssertionError(f"no error at body.{loc}: {errors}")


def assert_conflict(response: httpx.Response, *loc) -> str:
    """A 409 for a well-formed request that clashes with stored data through body.<loc>; returns its message."""
    assert response.status_code == 409, response.text
    assert response.json()["loc"] == ["body", *loc], response.json()
    return response.json()["detail"]


def png_bytes(size=(64, 48), colour=(200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()
