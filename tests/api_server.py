"""Serve the real FastAPI app with uvicorn on 127.0.0.1 (a free port) in a background thread.

    with serve_api(app) as base_url:
        httpx.get(f"{base_url}/api/health")

`with_routers` adds routers the app does not have yet, as api/app.py adds its own (once a router is
wired in there it is a no-op), so a test exercises exactly what `studio serve` will serve.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterator

import uvicorn
from fastapi import APIRouter, FastAPI

from api.app import add_routes


def with_routers(app: FastAPI, *routers: APIRouter) -> FastAPI:
    # The app holds a router's own route objects (api/app.py's add_routes), not copies.
    present = {id(route) for route in app.routes}
    for router in routers:
        if not any(id(route) in present for route in router.routes):
            add_routes(app, router)
    return app


@contextmanager
def serve_api(app: FastAPI, *, start_timeout_s: float = 30.0) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve_with_env(monkeypatch, db_url: str, *routers: APIRouter, **env: str | None) -> Iterator[str]:
    """The app (with `routers`) served after setting these variables (None: unset): the app reads its
    settings once, when it is made, as `studio serve` does."""
    from api.app import create_app
    from studio.settings import load_settings

    for name, value in env.items():
        monkeypatch.setenv(name, value) if value is not None else monkeypatch.delenv(name, raising=False)
    with serve_api(with_routers(create_app(load_settings(), database_url=db_url), *routers)) as url:
        yield url
