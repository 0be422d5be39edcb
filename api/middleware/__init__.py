"""The review service's ASGI middleware, applied to every route of the app, whatever router it is in.

From the outside in: request context (id, access log, metrics, security headers), then the Host and
Origin checks, then the auth gate, then the body guard, then the app. Auth and the origin checks
therefore decide before a single byte of the body is read.
"""

from __future__ import annotations

from fastapi import FastAPI

from api.middleware.auth_gate import AuthGate
from api.middleware.body_guard import BodyGuard
from api.middleware.origin_guard import OriginGuard
from api.middleware.request_context import RequestContext
from api.route_table import methods_by_path


def install_middleware(app: FastAPI) -> None:
    settings = app.state.settings
    # add_middleware wraps what is already there: the last added runs first.
    app.add_middleware(BodyGuard, settings=settings)
    app.add_middleware(AuthGate, settings=settings)
    app.add_middleware(OriginGuard, settings=settings)
    known: dict[str, set[str]] = {}

    def allowed_methods(template: str) -> set[str]:
        # Built on first use: routers are all included by then, whoever added them.
        if not known:
            known.update(methods_by_path(app))
        return known.get(template, set())

    app.add_middleware(RequestContext, metrics=app.state.metrics, allowed_methods=allowed_methods)
