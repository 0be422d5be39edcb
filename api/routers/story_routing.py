"""What the story routers share: a pooled connection per request, and the translation of the
story domain's refusals into HTTP (404, 409, and 422 in FastAPI's own validation-error shape)."""

from __future__ import annotations

from typing import AsyncIterator, Callable

import asyncpg
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from api.deps import get_pool
from studio.story.errors import Conflict, InvalidField, NotFound


class StoryRoute(APIRoute):
    """Per-route rather than an app-wide exception handler, so the routers work in any app."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def translated(request: Request) -> Response:
            try:
                return await handler(request)
            except NotFound as exc:
                return JSONResponse({"detail": str(exc)}, status_code=404)
            except Conflict as exc:
                return JSONResponse({"detail": str(exc)}, status_code=409)
            except InvalidField as exc:
                error = {"type": "value_error", "loc": ["body", *exc.loc], "msg": str(exc)}
                return JSONResponse({"detail": [error]}, status_code=422)

        return translated


def story_router(tag: str) -> APIRouter:
    return APIRouter(prefix="/api", tags=[tag], route_class=StoryRoute)


async def story_connection(pool: asyncpg.Pool = Depends(get_pool)) -> AsyncIterator[asyncpg.Connection]:
    async with pool.acquire() as conn:
        yield conn
