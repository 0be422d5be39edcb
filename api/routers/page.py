"""The review page: `/` serves review.html, `/static/{name}` its script and stylesheet from api/static.

Plain files, no build step and nothing fetched from elsewhere: the Content-Security-Policy only lets the
page load from this origin.
"""

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from api.lazy_route import LazyAPIRoute

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}

_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        # blob: for images, videos and subtitles a token user's page fetched with the token.
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # The files change with the code; revalidate (ETag / Last-Modified) instead of serving a stale page.
    "Cache-Control": "no-cache",
}

router = APIRouter(tags=["page"], route_class=LazyAPIRoute)


def _file(name: str) -> FileResponse:
    path = (STATIC_DIR / name).resolve()
    media_type = _MEDIA_TYPES.get(path.suffix)
    # Only plain files directly in api/static with a known type: no traversal, no directory listings.
    if media_type is None or path.parent != STATIC_DIR or not path.is_file():
        raise HTTPException(status_code=404, detail="not found")
    return FileResponse(path, media_type=media_type, headers=_SECURITY_HEADERS)


@router.get("/", include_in_schema=False)
async def review_page() -> FileResponse:
    return _file("review.html")


@router.get("/studio", include_in_schema=False)
async def studio_page() -> FileResponse:
    return _file("studio.html")  # scenes and episodes, beside the review grid


@router.get("/gallery", include_in_schema=False)
async def gallery_page() -> FileResponse:
    return _file("gallery.html")  # a character's whole dataset, every status


@router.get("/static/{name}", include_in_schema=False)
async def static_file(name: str) -> FileResponse:
    return _file(name)
