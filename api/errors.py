"""The one place where errors become HTTP answers.

Routes let the plain code's exceptions rise; the handlers installed here give each a status and a
JSON body. Every 422 has FastAPI's validation-error shape, `{"detail": [{"type", "loc", "msg"}]}`,
and never echoes the input (it may not even be encodable). The database being away is a 503 with
Retry-After; a value the database refuses is a 422; nothing unexpected leaves as text/plain.

422 means the request breaks a rule its OpenAPI schema states; 409 means it keeps every rule but
clashes with what is stored (it names a character the project lacks, a style that is not there, an
image already where it should go): `{"detail": "...", "loc": [...]}`, loc naming the field.
"""

from __future__ import annotations

import logging

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from studio import dagster_runs
from studio.clients.echo import EchoError, EchoUnavailable
from studio.db.pool import DATABASE_AWAY
from studio.review import decisions, queries
from studio.review.ingest import DuplicateImage
from studio.review.rereview import ImageUnreviewable
from studio.story import errors as story
from studio.uploads import UploadRejected

log = logging.getLogger("studio.api.errors")

RETRY_AFTER_S = 2

# Most specific first does not matter: Starlette looks handlers up along the exception's MRO.
STATUS_BY_ERROR: dict[type[Exception], int] = {
    decisions.NotFound: 404,
    queries.ProjectNotFound: 404,
    story.NotFound: 404,
    dagster_runs.UnknownAsset: 404,
    dagster_runs.RunNotFound: 404,
    dagster_runs.UnknownJob: 404,
    decisions.AlreadyDecided: 409,
    DuplicateImage: 409,
    story.Conflict: 409,
    dagster_runs.DagsterRunsError: 502,  # Dagster answered, but refused
    EchoError: 502,
    dagster_runs.DagsterUnreachable: 503,
    EchoUnavailable: 503,
}

# Refused values, with where they came from (the 422 names it).
LOC_BY_INVALID: dict[type[Exception], list[str]] = {
    decisions.InvalidDecision: ["body"],
    queries.InvalidCursor: ["query", "after"],
    UploadRejected: ["body", "file"],
    ImageUnreviewable: ["path", "image_id"],
}

# Well-formed values that clash with what is stored (a partition Dagster does not have yet): 409.
LOC_BY_CONFLICT: dict[type[Exception], list[str]] = {
    dagster_runs.UnknownPartition: ["body", "partition"],
    decisions.ImpossibleReassignment: ["body", "character"],
}


def _printable(part) -> str | int:
    if isinstance(part, int):
        return part
    return _encodable(str(part))[:100]


def _encodable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def invalid(loc: list, msg: str, kind: str = "value_error") -> JSONResponse:
    return JSONResponse({"detail": [{"type": kind, "loc": [_printable(p) for p in loc], "msg": _printable(msg)}]},
                        status_code=422)


async def _detail(request: Request, exc: Exception) -> JSONResponse:
    for kind in type(exc).__mro__:
        if kind in STATUS_BY_ERROR:
            headers = {"Retry-After": str(RETRY_AFTER_S)} if STATUS_BY_ERROR[kind] == 503 else None
            return JSONResponse({"detail": str(exc)}, status_code=STATUS_BY_ERROR[kind], headers=headers)
    raise exc  # not a domain error: let the server's own error handling see it


async def _invalid_value(request: Request, exc: Exception) -> JSONResponse:
    loc = next(LOC_BY_INVALID[kind] for kind in type(exc).__mro__ if kind in LOC_BY_INVALID)
    return invalid(loc, str(exc))


def conflict(loc: list, msg: str) -> JSONResponse:
    return JSONResponse({"detail": _encodable(msg), "loc": [_printable(p) for p in loc]}, status_code=409)


async def _conflicting_field(request: Request, exc: story.InvalidField) -> JSONResponse:
    return conflict(["body", *exc.loc], str(exc))


async def _conflicting_value(request: Request, exc: Exception) -> JSONResponse:
    return conflict(next(LOC_BY_CONFLICT[kind] for kind in type(exc).__mro__ if kind in LOC_BY_CONFLICT), str(exc))


async def _request_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    # Only type, loc and msg: "input" and "ctx" repeat what was sent, NaN and lone surrogates included.
    errors = [{"type": str(e.get("type", "value_error")), "loc": [_printable(p) for p in e.get("loc", ())],
               "msg": _printable(e.get("msg", "invalid value"))} for e in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)


async def _http_exception(request: Request, exc: StarletteHTTPException) -> Response:
    # A route's HTTPException(422, "text") would be a second 422 shape: given the one shape, at the
    # request's last path parameter (what such routes refuse is the file or record it names).
    if exc.status_code == 422 and not isinstance(exc.detail, list):
        loc = ["path", list(request.path_params)[-1]] if request.path_params else ["body"]
        return invalid(loc, str(exc.detail))
    return await http_exception_handler(request, exc)


async def _database_away(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable for %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return JSONResponse({"detail": "the database is unavailable; try again shortly"}, status_code=503,
                        headers={"Retry-After": str(RETRY_AFTER_S)})


async def _database_refused(request: Request, exc: asyncpg.PostgresError) -> JSONResponse:
    # A value the models let through but a column or check refuses: still the caller's input.
    return invalid(["body"], f"a value is out of range for the database: {type(exc).__name__}")


async def _database_conflict(request: Request, exc: asyncpg.IntegrityConstraintViolationError) -> JSONResponse:
    # Checks ahead of a write cannot see a concurrent one (or every unique key): the database's refusal
    # is still a clash with stored data, never a 500.
    what = "is already taken" if isinstance(exc, asyncpg.UniqueViolationError) else "refers to a missing or used row"
    constraint = getattr(exc, "constraint_name", None) or type(exc).__name__
    return JSONResponse({"detail": f"a value {what} ({constraint})"}, status_code=409)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error in %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "internal error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    for kind in STATUS_BY_ERROR:
        app.add_exception_handler(kind, _detail)
    for kind in LOC_BY_INVALID:
        app.add_exception_handler(kind, _invalid_value)
    app.add_exception_handler(story.InvalidField, _conflicting_field)
    for kind in LOC_BY_CONFLICT:
        app.add_exception_handler(kind, _conflicting_value)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    for kind in DATABASE_AWAY:
        app.add_exception_handler(kind, _database_away)
    for kind in (asyncpg.DataError, asyncpg.CheckViolationError, asyncpg.NotNullViolationError):
        app.add_exception_handler(kind, _database_refused)
    for kind in (asyncpg.UniqueViolationError, asyncpg.ForeignKeyViolationError):
        app.add_exception_handler(kind, _database_conflict)
    app.add_exception_handler(Exception, _unexpected)
