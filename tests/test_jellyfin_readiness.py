"""Readiness reports Jellyfin's state, and requires it only when STUDIO_JELLYFIN_URL names one."""

import httpx

from api.routers import health
from tests.api_server import serve_with_env
from tests.doubles.jellyfin import JellyfinDouble

NO_DAGSTER = "http://127.0.0.1:9/graphql"


async def ready(url):
    async with httpx.AsyncClient(base_url=url, timeout=10) as api:
        answer = await api.get("/api/health/ready")
    return answer.status_code, answer.json()["checks"]["jellyfin"]


async def test_without_a_jellyfin_url_it_is_reported_not_configured_and_not_required(studio_env, db_url,
                                                                                      monkeypatch):
    with serve_with_env(monkeypatch, db_url, health.router, STUDIO_JELLYFIN_URL=None,
                        STUDIO_DAGSTER_GRAPHQL_URL=NO_DAGSTER) as url:
        assert await ready(url) == (200, {"status": "not configured", "required": False})


async def test_a_configured_jellyfin_is_required_and_a_down_one_makes_the_service_unready(studio_env, db_url,
                                                                                          monkeypatch):
    with JellyfinDouble(token="tok") as jellyfin, serve_with_env(
            monkeypatch, db_url, health.router, STUDIO_JELLYFIN_URL=jellyfin.url, STUDIO_JELLYFIN_TOKEN="tok",
            STUDIO_DAGSTER_GRAPHQL_URL=NO_DAGSTER) as url:
        assert await ready(url) == (200, {"status": "ok", "version": "10.10.7", "required": True})

        jellyfin.healthy = False  # answers 503
        status, check = await ready(url)
        assert status == 503 and check["status"] == "error" and check["required"]
        assert "tok" not in check["error"]

        jellyfin.healthy = True
        jellyfin.stop_serving()  # nothing listens on its port
        status, check = await ready(url)
        assert status == 503 and check["status"] == "error"

        jellyfin.serve_again()
        assert (await ready(url))[0] == 200
