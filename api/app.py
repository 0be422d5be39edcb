"""The review service: `create_app()` builds the FastAPI app; `studio serve` runs it with uvicorn."""

from __future__ import annotations

import gc
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from api.auth import require_user
from api.routers import characters, echo, episodes, health, page, projects, review, runs, scenes, stats

from api.settings import ApiSettings
from studio.settings import Settings, load_settings
from studio.db.dsn import resolve_database_url
from studio.db.pool import create_pool


def create_app(
    settings: Settings | None = None, api_settings: ApiSettings | None = None, database_url: str | None = None
) -> FastAPI:
    settings = settings or load_settings()
    api_settings = api_settings or ApiSettings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        url = database_url or await resolve_database_url(settings)
        app.state.pool = await create_pool(url, max_size=16)
        # Everything imported so far (Dagster, pydantic: ~170,000 tracked objects) lives as long as the
        # process; moving it out of the collector's view keeps full collections (~50 ms each) from pausing requests.
        gc.freeze()
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(title="Anime Studio review service", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.api_settings = api_settings
    # One router per domain; every data route needs a trusted network or a valid token.
    protected = [Depends(require_user)]
    for router in (review.router, projects.router, characters.router, scenes.router, episodes.router,
                   runs.router, stats.router, health.router, echo.router):
        app.include_router(router, dependencies=protected)
    app.include_router(page.router)  # the review page and its static files
    return app
