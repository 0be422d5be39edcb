"""The review service: `create_app()` builds the FastAPI app; `studio serve` runs it with uvicorn.

It imports no Dagster module (a test holds that): runs are triggered over Dagster's GraphQL API and
the services are reached with the plain clients of studio/clients/.
"""

from __future__ import annotations

import gc
from contextlib import asynccontextmanager

from studio.long_lived import long_lived_objects

# Importing the routers builds the service's pydantic models and routes: objects that live as long as
# the process, made out of the collector's way as the lifespan freezes what start-up made.
with long_lived_objects():
    from fastapi import APIRouter, FastAPI

    from api import docs, metrics
    from api.errors import install_error_handlers
    from api.logging_setup import install_request_id_logging
    from api.middleware import install_middleware
    from api.openapi import install_openapi
    from api.routers import (audio, autonomy, characters, echo, episode_media, episodes, gallery, health, page,
                             projects, review, runs, scenes, shots, stats, training)
    from studio.db.dsn import resolve_database_url
    from studio.db.pool import open_service_pool
    from studio.settings import Settings, load_settings


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """The router's routes become the app's own: the same route objects, each built once, on its
    first use (api/lazy_route.py).

    `include_router` keeps a router behind a wrapper that builds every route a second time for the
    app on the first request (+0.1 s to the first answer). The routers here set their prefix, tags
    and answers themselves and the app adds none, so the routes as declared are the routes served.
    """
    app.router.routes.extend(router.routes)


def create_app(settings: Settings | None = None, *, database_url: str | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        url = database_url or await resolve_database_url(settings)
        # Made even while the database is away: the service starts, answers 503 and recovers by itself.
        app.state.pool = await open_service_pool(url, max_size=16, connect_timeout_s=settings.db_connect_timeout_s,
                                                 command_timeout_s=settings.db_command_timeout_s)
        # What start-up made lives as long as the process; moving it out of the collector's view keeps
        # full collections from pausing requests.
        gc.freeze()
        try:
            yield
        finally:
            await app.state.pool.close()

    # /docs is served from installed files (api/docs.py), not FastAPI's CDN page.
    app = FastAPI(title="Anime Studio review service", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.metrics = metrics.Metrics()
    install_request_id_logging()
    install_error_handlers(app)
    # Host, origin, auth and body checks for every route, whatever router adds it (api/middleware).
    install_middleware(app)
    # One router per domain. Every data route needs a trusted network or a valid token: the auth gate
    # (api/middleware/auth_gate.py) decides that for every path, once, before any route runs; a
    # dependency on each route as well cost a tenth of a millisecond per request for the same answer.
    for router in (review.router, projects.router, characters.router, scenes.router, episodes.router,
                   runs.router, stats.router, health.router, echo.router, training.router, shots.router,
                   autonomy.router, episode_media.router, audio.router, gallery.router):
        add_routes(app, router)
    add_routes(app, page.router)  # the review page and its static files
    add_routes(app, health.public_router)  # liveness: no auth, no database
    add_routes(app, metrics.router)  # protected by the auth gate, like every non-public path
    add_routes(app, docs.router)
    install_openapi(app)
    return app
