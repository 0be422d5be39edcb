"""The app's routes as path templates with their methods: read by the OpenAPI document and by the
request-context middleware (a 405 needs to know what a path does allow). Depends on neither."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts


def path_template(path: str) -> str:
    """'/a/{id:int}' -> '/a/{id}': the path as the document and Starlette's route.path_format spell it."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def methods_by_path(app: FastAPI) -> dict[str, set[str]]:
    """Every route's full path template with all the methods it has, across the routes that share it."""
    methods: dict[str, set[str]] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path:
            methods.setdefault(path_template(context.path), set()).update(route.methods)
    return methods
