"""`GET /api/stats/characters` and `GET /api/health` on the real app, served by uvicorn."""

from __future__ import annotations

import functools

import asyncio
import socket
import time

import httpx
import pytest

from api.app import create_app
from api.routers import health, stats
from studio.cli import main as studio
from studio.settings import load_settings
from studio.db.pool import connect
from tests.api_server import serve_api, serve_with_env, with_routers
from tests.conftest import EXAMPLE_SPEC
from tests.doubles.comfyui import ComfyUIDouble
from tests.doubles.ollama import OllamaDouble


@pytest.fixture
def api_url(studio_env, db_url):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    app = with_routers(create_app(load_settings(), database_url=db_url), stats.router, health.router)
    with serve_api(app) as url:
        yield url


def _insert_images(db_url: str, character: str, statuses: list[str], gpu_seconds: float) -> None:
    async def insert() -> None:
        async with connect(db_url) as conn:
            await conn.execute(
                """INSERT INTO images (character_id, file_path, sha256, phash, status, gpu_seconds)
                   SELECT c.id, $2 || '/' || n, md5($2 || n), n, s.status, $4
                   FROM characters c, unnest($3::text[]) WITH ORDINALITY AS s(status, n)
                   WHERE c.slug = $1""",
                character, f"datasets/{character}", statuses, gpu_seconds)

    asyncio.run(insert())


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_character_stats_count_each_status_and_sum_gpu_time(api_url, db_url):
    _insert_images(db_url, "mika", ["approved", "approved", "approved", "rejected", "pending"], 1.5)
    rows = httpx.get(f"{api_url}/api/stats/characters", params={"project": "lantern-harbor"}).json()
    by_slug = {row["character"]: row for row in rows}
    assert by_slug["mika"] == {"project": "lantern-harbor", "character": "mika", "name": "Mika Aoyama",
                               "approved": 3, "pending": 1, "rejected": 1, "approval_rate": 0.75,
                               "gpu_seconds": 7.5, "target": 12}
    # Nothing decided yet: no rate rather than 0 %.
    assert by_slug["ember"]["approval_rate"] is None
    assert by_slug["ember"]["approved"] == by_slug["ember"]["gpu_seconds"] == 0
    assert httpx.get(f"{api_url}/api/stats/characters").json() == rows  # one project: the same list


def test_character_stats_unknown_project_is_404(api_url):
    response = httpx.get(f"{api_url}/api/stats/characters", params={"project": "nope"})
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]


def test_character_stats_stay_fast_at_100k_images(api_url, db_url):
    async def bulk() -> None:
        async with connect(db_url) as conn:
            await conn.execute(
                """INSERT INTO images (character_id, file_path, sha256, phash, status, gpu_seconds)
                   SELECT c.id, 'bulk/' || n, md5('bulk' || n), n,
                          (ARRAY['approved', 'rejected', 'pending'])[1 + n % 3], 0.5
                   FROM generate_series(1, 100000) n
                   JOIN characters c ON c.slug = CASE WHEN n % 2 = 0 THEN 'mika' ELSE 'ember' END""")
            await conn.execute("ANALYZE images")

    asyncio.run(bulk())
    with httpx.Client() as client:
        client.get(f"{api_url}/api/stats/characters")  # warm the connection and plan cache
        started = time.monotonic()
        rows = client.get(f"{api_url}/api/stats/characters").json()
        elapsed = time.monotonic() - started
    assert sum(r["approved"] + r["pending"] + r["rejected"] for r in rows) == 100_000
    assert sum(r["gpu_seconds"] for r in rows) == pytest.approx(50_000)
    assert elapsed < 0.5, f"stats took {elapsed:.3f}s"


@pytest.fixture
def serve_health(studio_env, db_url, monkeypatch):
    """The health route served with these variables set (None: unset)."""
    return functools.partial(serve_with_env, monkeypatch, db_url, health.router)


def test_health_in_preview_mode_does_not_probe_gpu_services(serve_health):
    with serve_health(STUDIO_COMFYUI_URLS=_closed_port_url(), STUDIO_ECHO_URL=None) as api_url:
        body = httpx.get(f"{api_url}/api/health").json()
    assert body["backend"] == "preview" and body["database"] == "ok"
    assert [s["status"] for s in body["comfyui"]] == ["not used"]
    assert body["ollama"]["status"] == "not used"
    assert body["echo"] == {"url": None, "status": "not configured", "ok": None}


def test_health_live_reports_each_comfyui_and_ollama(serve_health):
    with ComfyUIDouble() as comfy, OllamaDouble() as ollama:
        down = _closed_port_url()
        with serve_health(STUDIO_BACKEND="live", STUDIO_COMFYUI_URLS=f"{comfy.url},{down}",
                          STUDIO_OLLAMA_URL=ollama.url) as live_api_url:
            response = httpx.get(f"{live_api_url}/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["backend"] == "live" and body["database"] == "ok"
    up, broken = body["comfyui"]
    assert up["url"] == comfy.url and up["ok"] is True and up["version"] == "0.8.0"
    assert up["vram_total"] == 25276063744 and up["vram_free"] == 24212615168
    assert up["devices"][0]["name"] == "cpu"
    assert broken == {"url": down, "status": "error", "ok": False, "error": broken["error"]}
    assert body["ollama"]["ok"] is True
    assert body["ollama"]["loaded_models"][0]["name"] == "qwen2.5vl:7b"


def test_health_live_with_every_service_down_is_still_200(serve_health):
    with serve_health(STUDIO_BACKEND="live", STUDIO_COMFYUI_URLS=_closed_port_url(),
                      STUDIO_OLLAMA_URL=_closed_port_url(), STUDIO_ECHO_URL=_closed_port_url()) as live_api_url:
        started = time.monotonic()
        response = httpx.get(f"{live_api_url}/api/health")
        assert time.monotonic() - started < 3
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert [s["ok"] for s in body["comfyui"]] == [False]
    assert body["ollama"]["ok"] is False and body["ollama"]["error"]
    assert body["echo"]["status"] == "error"
