"""The bases of the service's request and answer bodies.

An answer model is built on first use (pydantic's `defer_build`): its serializer is made when a
request first returns one, or when the OpenAPI document is written, not while `studio serve` starts
(bench/bench_api_import.py). Routes are built on first use too (api/lazy_route.py).

A request body is built as it is declared: FastAPI hides a warning pydantic gives about the body's
alias while it builds the route, and a body model built later would give it at its first request.
"""

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    """An answer, or a part of one."""

    model_config = ConfigDict(defer_build=True)


class ApiInput(BaseModel):
    """A request body: a field the model does not have is refused (422 naming it), not ignored."""

    model_config = ConfigDict(extra="forbid")
