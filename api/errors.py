"""The one place where domain errors become HTTP answers.

Routes let the plain code's exceptions rise; the handlers installed here give each a status and a
JSON body `{"detail": "..."}`. A refused field (story InvalidField) answers in FastAPI's own
validation-error shape so clients see one 422 format.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from studio import dagster_runs
from studio.clients.echo import EchoError, EchoUnavailable
from studio.review import decisions, queries
from studio.review.ingest import DuplicateImage
from studio.review.rereview import ImageUnreviewable
from studio.story import errors as story
from studio.uploads import UploadRejected

# Most specific first does not matter: Starlette looks handlers up along the exception's MRO.
STATUS_BY_ERROR: dict[type[Exception], int] = {
    decisions.NotFound: 404,
    queries.ProjectNotFound: 404,
    story.NotFound: 404,
    dagster_runs.UnknownAsset: 404,
    dagster_runs.RunNotFound: 404,
    decisions.AlreadyDecided: 409,
    DuplicateImage: 409,
    story.Conflict: 409,
    decisions.InvalidDecision: 422,
    queries.InvalidCursor: 422,
    UploadRejected: 422,
    ImageUnreviewable: 422,
    dagster_runs.UnknownPartition: 422,
    dagster_runs.DagsterRunsError: 502,  # Dagster answered, but refused
    EchoError: 502,
    dagster_runs.DagsterUnreachable: 503,
    EchoUnavailable: 503,
}


async def _detail(request: Request, exc: Exception) -> JSONResponse:
    for kind in type(exc).__mro__:
        if kind in STATUS_BY_ERROR:
            return JSONResponse({"detail": str(exc)}, status_code=STATUS_BY_ERROR[kind])
    raise exc  # not a domain error: let the server's own error handling see it


async def _invalid_field(request: Request, exc: story.InvalidField) -> JSONResponse:
    error = {"type": "value_error", "loc": ["body", *exc.loc], "msg": str(exc)}
    return JSONResponse({"detail": [error]}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    for kind in STATUS_BY_ERROR:
        app.add_exception_handler(kind, _detail)
    app.add_exception_handler(story.InvalidField, _invalid_field)
