"""What the story routers share: their prefix and tag. Their refusals (404, 409, 422 in FastAPI's
own validation-error shape) become HTTP answers in api/errors.py, like every domain error."""

from fastapi import APIRouter

from api.lazy_route import LazyAPIRoute


def story_router(tag: str) -> APIRouter:
    return APIRouter(prefix="/api", tags=[tag], route_class=LazyAPIRoute)
