"""The review service while its database is stopped, started again and stalled, and started while it
is down: a real PostgreSQL of its own (the shared test server cannot be stopped), the app served by
uvicorn.

Stopped: 503 with Retry-After and JSON at once; readiness says not ready, liveness stays up.
Started again: the same process answers 200 within a couple of seconds, no restart.
Stalled (every server process SIGSTOPped): 503 within the command timeout, not a hang.
Down at start-up: the service starts all the same; its first request once the server is up migrates.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.routers import review
from studio.db.embedded import ensure_database, start_embedded_server
from studio.settings import settings_for
from tests.api_server import serve_api, with_routers
from tests.review_seed import studio_settings

ROUTE = "/api/review/counts"
# They stop and start a PostgreSQL server: the slow group.
pytestmark = pytest.mark.fault


def server_pids(pg_dir: Path) -> list[int]:
    """The postmaster and its children (every backend), from /proc."""
    postmaster = int((pg_dir / "postmaster.pid").read_text().split()[0])
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                children.append(int(entry.name))
    return [postmaster, *children]


def in_own_process(action: str, pg_dir: Path) -> None:
    """Start or stop the server from a fresh process, as an operator would (pgserver caches a
    stopped server per process and would not start it again in this one)."""
    code = f"from pathlib import Path; from studio.db.embedded import {action}; {action}(Path({str(pg_dir)!r}))"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.fixture
def own_server(tmp_path):
    pg_dir = tmp_path / "pg"
    url = start_embedded_server(pg_dir)
    yield pg_dir, asyncio.run(ensure_database(url, "studio"))
    in_own_process("stop_embedded_server", pg_dir)


async def _first(api: httpx.AsyncClient, status: int, timeout_s: float) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    while True:
        response = await api.get(ROUTE, timeout=timeout_s)
        if response.status_code == status or time.monotonic() - started > timeout_s:
            return response, time.monotonic() - started
        await asyncio.sleep(0.05)


async def test_stopped_restarted_and_stalled_database(own_server, tmp_path):
    pg_dir, db_url = own_server
    settings = studio_settings(tmp_path / "home", base=settings_for(db_command_timeout_s=1.0, db_connect_timeout_s=1.0))
    with serve_api(with_routers(create_app(settings, database_url=db_url), review.router)) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            assert (await api.get(ROUTE)).status_code == 200

            await asyncio.to_thread(in_own_process, "stop_embedded_server", pg_dir)
            down, elapsed = await _first(api, 503, 5)
            assert down.status_code == 503 and elapsed < 2, elapsed
            assert down.headers["retry-after"] == "2" and "database" in down.json()["detail"]
            ready = await api.get("/api/health/ready")
            assert ready.status_code == 503 and ready.json()["checks"]["database"]["status"] == "error"
            assert (await api.get("/api/health")).status_code == 503
            assert (await api.get("/api/health/live")).status_code == 200

            await asyncio.to_thread(in_own_process, "start_embedded_server", pg_dir)
            back, elapsed = await _first(api, 200, 5)
            assert back.status_code == 200 and elapsed < 2, elapsed
            assert (await api.get("/api/health/ready")).status_code == 200

            pids = server_pids(pg_dir)
            for pid in pids:
                os.kill(pid, signal.SIGSTOP)
            try:
                started = time.monotonic()
                stalled = await api.get(ROUTE, timeout=10)
                elapsed = time.monotonic() - started
            finally:
                for pid in pids:
                    os.kill(pid, signal.SIGCONT)
            assert stalled.status_code == 503 and elapsed < 3, elapsed
            recovered, _ = await _first(api, 200, 5)
            assert recovered.status_code == 200


async def test_starts_while_the_database_is_down_and_migrates_when_it_is_back(own_server, tmp_path):
    pg_dir, db_url = own_server  # a new database, not migrated yet
    await asyncio.to_thread(in_own_process, "stop_embedded_server", pg_dir)
    settings = studio_settings(tmp_path / "home", base=settings_for(db_command_timeout_s=1.0, db_connect_timeout_s=1.0))
    with serve_api(with_routers(create_app(settings, database_url=db_url), review.router)) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            assert (await api.get("/api/health/live")).status_code == 200
            ready = await api.get("/api/health/ready")
            assert ready.status_code == 503 and ready.json()["checks"]["database"]["status"] == "error"
            down = await api.get(ROUTE)
            assert down.status_code == 503 and down.headers["retry-after"] == "2"
            assert "database" in down.json()["detail"]

            await asyncio.to_thread(in_own_process, "start_embedded_server", pg_dir)
            back, elapsed = await _first(api, 200, 10)
            assert back.status_code == 200 and elapsed < 5, (back.status_code, elapsed)
            assert back.json() == []  # the tables exist: migrated by the first connection, not at start-up
            assert (await api.get("/api/health/ready")).status_code == 200
