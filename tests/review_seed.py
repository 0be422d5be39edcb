"""Test data and a served app for the review-service tests: real PNGs in a media root, real rows.

Connections must come from studio.db.pool.connect (jsonb codec): JSON values are passed as dicts.
"""

from __future__ import annotations

import hashlib
import io
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import asyncpg
import uvicorn
from PIL import Image, ImageDraw

from api.app import create_app
from api.routers import review
from studio.settings import Settings, settings_for
from tests.api_server import serve_api, with_routers

HUMAN = {"species": "human", "key_colors": {"hair": "#2b1d4e"}}
DRAGON = {"species": "dragon — NOT human", "key_colors": {"scales": "#3fa34d"}}


def png_bytes(seed: int, size: int = 96) -> bytes:
    """A small PNG with some structure, different for every seed."""
    image = Image.new("RGB", (size, size), ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    draw = ImageDraw.Draw(image)
    for k in range(6):
        x = (seed * 13 + k * 17) % size
        draw.rectangle((x, k * 12, min(size - 1, x + 20), k * 12 + 10), fill=(255 - k * 30, k * 40, 128))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def seed_project(conn: asyncpg.Connection, slug: str = "harbor") -> int:
    return await conn.fetchval("INSERT INTO projects (slug, name) VALUES ($1, $1) RETURNING id", slug)


async def seed_character(conn: asyncpg.Connection, project_id: int, slug: str, appearance: dict = HUMAN,
                         target: int = 20) -> int:
    return await conn.fetchval(
        """INSERT INTO characters (project_id, slug, name, design_prompt, appearance_data, target_images)
           VALUES ($1, $2, $3, 'a test character', $4::jsonb, $5) RETURNING id""",
        project_id, slug, slug.title(), appearance, target,
    )


async def seed_image(conn: asyncpg.Connection, media_root: Path | None, character_id: int, n: int, *,
                     status: str = "pending", score: float | None = 0.6, file_path: str | None = None) -> int:
    """An image row; with a media root, also its PNG file under datasets/<character>/images."""
    data = png_bytes(n)
    sha = hashlib.sha256(data + n.to_bytes(8, "big")).hexdigest()
    if file_path is None:
        file_path = f"datasets/c{character_id}/images/{sha[:20]}.png"
        if media_root is not None:
            target = media_root / file_path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    review = None if score is None else {"quality_score": score, "solo": True, "checklist": [
        {"item": "hair colour #2b1d4e", "passed": True}], "species_ok": None, "reason": "seeded",
        "backend": "preview", "model": "heuristic-v1", "error": None}
    return await conn.fetchval(
        """INSERT INTO images (character_id, file_path, sha256, phash, width, height, status, quality_score,
                               review, prompt, seed, decided_by)
           VALUES ($1, $2, $3, $4, 96, 96, $5, $6, $7::jsonb, 'a prompt', $4, $8) RETURNING id""",
        character_id, file_path, sha, n, status, score, review,
        None if status == "pending" else "auto",
    )


def studio_settings(home: Path, backend: str = "preview", base: Settings | None = None) -> Settings:
    return (base or settings_for()).with_values(home=home, backend=backend)


def review_app(db_url: str, home: Path, api_settings: Settings | None = None, backend: str = "preview"):
    """The app with the review routes included exactly as api/app.py includes them."""
    app = create_app(studio_settings(home, backend, api_settings), database_url=db_url)
    return with_routers(app, review.router)


@contextmanager
def served_review_app(db_url: str, home: Path, api_settings: Settings | None = None,
                      backend: str = "preview") -> Iterator[str]:
    """Served by uvicorn as `studio serve` does (uvicorn's defaults, proxy headers on)."""
    with serve_api(review_app(db_url, home, api_settings, backend)) as base_url:
        yield base_url


@contextmanager
def served_without_proxy_headers(app) -> Iterator[str]:
    """uvicorn with proxy_headers=False: request.client is the socket peer, as api.auth expects
    behind a proxy (uvicorn would otherwise rewrite it from X-Forwarded-For itself)."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           lifespan="on", proxy_headers=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
