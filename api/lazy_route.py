"""`LazyAPIRoute`: a FastAPI route that analyses its endpoint on first use, not when it is declared.

FastAPI builds a route as it is declared: it reads the endpoint's signature, makes one pydantic
TypeAdapter per parameter and one for the answer, and wraps the handler. For the service's hundred
routes that is a sixth of its start-up, paid by every `studio serve` before it answers anything,
though a session uses a handful of routes. A lazy route knows its path and methods at once (all
routing needs to pick it), and is built by FastAPI's own `APIRoute.__init__`, with the same
arguments, the first time anything else is read from it: its first request, or the OpenAPI document,
which reads every route. After that it is an ordinary `APIRoute`.

A mistake in a route's declaration surfaces when it is built: tests/test_lazy_route.py builds them all.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import compile_path, get_name

_building = threading.RLock()  # the build itself reads attributes it has not set yet


class LazyAPIRoute(APIRoute):
    def __init__(self, path: str, endpoint: Any, *, methods: Any = None, name: str | None = None,
                 **declaration: Any) -> None:
        # Only what Starlette's router reads to pick a route; FastAPI sets the same again when built.
        self.path = path
        self.endpoint = endpoint
        self.name = get_name(endpoint) if name is None else name
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        self.methods = {method.upper() for method in methods or ["GET"]}
        self._declaration = dict(declaration, methods=methods, name=name)

    def __getattr__(self, attribute: str) -> Any:
        # Called only for what is not set: before the route is built, or a name it does not have.
        with _building:
            declaration = self.__dict__.pop("_declaration", None)
            if declaration is not None:
                try:
                    APIRoute.__init__(self, self.path, self.endpoint, **declaration)
                except BaseException:
                    self._declaration = declaration
                    raise
        if attribute not in self.__dict__:  # also what the route's own build reads before setting it
            raise AttributeError(attribute)
        return self.__dict__[attribute]
