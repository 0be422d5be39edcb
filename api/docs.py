"""`/docs`: Swagger UI from files installed with the project (the fastapi-offline wheel ships them),
so the page works on a network without a CDN. Only the asset files are used from that package.
"""

import importlib.util
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from api.lazy_route import LazyAPIRoute

# Found without importing the package: its own code (FastAPIOffline) pulls in pydantic.v1, which the
# service never uses.
ASSETS = Path(next(iter(importlib.util.find_spec("fastapi_offline").submodule_search_locations))) / "static"
ASSET_TYPES = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8",
               "favicon.png": "image/png"}
# FastAPI's page starts Swagger UI with an inline script: allowed by its hash-free 'unsafe-inline'
# here only, on a page that shows nothing but the service's own schema.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")

router = APIRouter(include_in_schema=False, route_class=LazyAPIRoute)


@router.get("/docs")
async def docs() -> HTMLResponse:
    page = get_swagger_ui_html(openapi_url="/openapi.json", title="Anime Studio review service",
                               swagger_js_url="/docs/static/swagger-ui-bundle.js",
                               swagger_css_url="/docs/static/swagger-ui.css",
                               swagger_favicon_url="/docs/static/favicon.png")
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page


@router.get("/docs/static/{name}")
async def docs_asset(name: str) -> FileResponse:
    if name not in ASSET_TYPES:
        raise HTTPException(404, detail="not found")
    return FileResponse(ASSETS / name, media_type=ASSET_TYPES[name], headers={"Cache-Control": "max-age=86400"})
