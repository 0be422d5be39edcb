"""The OpenAPI document, completed: every answer a route can give, the bearer scheme, file media types.

FastAPI documents a route's own answer and a 422 for its parameters. The middleware and the error
handlers add the rest to every route alike (api/middleware, api/errors.py), so they are declared
here for every route alike, from what the route is: protected or public, reading or writing, with
path parameters or not, answering a file or JSON.
"""

from __future__ import annotations

import typing

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute, iter_route_contexts

from api.middleware.auth_gate import is_public
from api.route_table import path_template
from api.schemas.bounds import JSON_VALUE_SCHEMA

# `loc` comes with a 409 whose request clashes with stored data through one field (api/errors.py).
ERROR_SCHEMA = {"type": "object", "required": ["detail"], "properties": {
    "detail": {"type": "string"},
    "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}}}
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before trying again", "schema": {"type": "integer"}}}
VALIDATION_REF = {"$ref": "#/components/schemas/HTTPValidationError"}


def _error(description: str, headers: dict | None = None) -> dict:
    answer = {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {**answer, "headers": headers} if headers else answer


_BINARY = {"schema": {"type": "string", "format": "binary"}}


def file_answer(*media_types: str) -> dict:
    """`responses=` of a route answering a file of these types (a FileResponse route that declares
    none is documented as answering an image)."""
    return {200: {"description": "the file", "content": {t: _BINARY for t in media_types}}}


def _answers_file(route: APIRoute) -> bool:
    try:
        returned = typing.get_type_hints(route.endpoint).get("return")
    except Exception:  # an annotation that cannot be resolved is not a file answer
        return False
    return isinstance(returned, type) and issubclass(returned, FileResponse)


def _complete_operation(operation: dict, route: APIRoute, path: str, method: str) -> None:
    answers = operation.setdefault("responses", {})
    protected = not is_public(path)
    declared = (route.responses or {}).get(200, {}).get("content")
    if declared and all(v == _BINARY for v in declared.values()):
        # file_answer(): FastAPI has added its JSON default beside the declared types
        answers["200"] = {"description": "the file", "content": {t: _BINARY for t in declared}}
    elif _answers_file(route):
        answers["200"] = {"description": "the file", "content": {t: _BINARY for t in IMAGE_TYPES}}
    extra = {"400": _error("the Host header names a host this service does not answer to")}
    if "{" in path or protected:  # a path parameter, or a filter naming a project, can name nothing
        extra["404"] = _error("no such resource")
    if protected:
        extra["401"] = _error("not on a trusted network and no valid bearer token",
                              {"WWW-Authenticate": {"schema": {"type": "string"}}})
        extra["429"] = _error("too many failed logins from this address", RETRY_AFTER)
        extra["503"] = _error("the database or a service it needs is unavailable", RETRY_AFTER)
        operation["security"] = [{}, {"bearer": []}]  # the trusted network needs no token
    if method == "put" and "200" in answers:
        # A PUT of a document that did not exist yet creates it (201), with the same body.
        extra["201"] = {**answers["200"], "description": "created"}
    if method not in ("get", "head", "options"):
        extra["403"] = _error("a write from another origin without a bearer token")
        extra["409"] = _error("conflicts with the current state (already decided, duplicate, exists) or names "
                              "something the stored data lacks (`loc` names the field)")
        extra["413"] = _error("the request body is over this route's limit")
    extra["422"] = {"description": "a field is invalid (named in loc)",
                    "content": {"application/json": {"schema": VALIDATION_REF}}}
    for status, answer in extra.items():
        answers.setdefault(status, answer)


def _declare_image_parts(document: dict, operation: dict) -> None:
    """A multipart upload's file parts are images: say which types (studio/uploads.py decodes by content)."""
    form = operation.get("requestBody", {}).get("content", {}).get("multipart/form-data")
    if form is None:
        return
    schema = form["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    for name, part in schema.get("properties", {}).items():
        if part.get("format") == "binary" or part.get("contentMediaType") == "application/octet-stream":
            form.setdefault("encoding", {})[name] = {"contentType": ", ".join(IMAGE_TYPES)}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, routes=app.routes)
            components = document.setdefault("components", {})
            schemas = components.setdefault("schemas", {})
            schemas["Error"] = ERROR_SCHEMA
            schemas["JsonValue"] = JSON_VALUE_SCHEMA
            schemas.setdefault("HTTPValidationError", {
                "type": "object", "properties": {"detail": {"type": "array", "items": {
                    "type": "object", "required": ["loc", "msg", "type"], "properties": {
                        "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                        "msg": {"type": "string"}, "type": {"type": "string"}}}}}})
            components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
            # Included routers are nested in app.routes; FastAPI's own walk gives each route its full path.
            for context in iter_route_contexts(app.routes):
                route = context.original_route
                if isinstance(route, APIRoute) and route.include_in_schema:
                    for method in route.methods:
                        path = path_template(context.path)
                        operation = document["paths"].get(path, {}).get(method.lower())
                        if operation is not None:
                            _complete_operation(operation, route, path, method.lower())
                            _declare_image_parts(document, operation)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi
