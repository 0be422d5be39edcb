"""A route reading its query through a model (api/query_params.py) documents and answers as FastAPI would."""

from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI, Query, Request
from pydantic import BaseModel

from api.errors import install_error_handlers
from api.query_params import query_parameters, read_query
from api.schemas.review_query import PendingQuery
from tests.api_server import serve_api


def test_documented_parameters_are_what_fastapi_writes_for_the_model():
    app = FastAPI()

    @app.get("/declared")
    async def declared(query: Annotated[PendingQuery, Query()]) -> None:
        return None

    written = app.openapi()["paths"]["/declared"]["get"]["parameters"]
    assert query_parameters(PendingQuery) == written


class Nested(BaseModel):
    inner: PendingQuery | None = None


def test_a_model_with_nested_models_is_refused():
    with pytest.raises(TypeError, match="scalar fields only"):
        query_parameters(Nested)


@pytest.fixture
def client():
    """One route reading its own query, one declaring the model to FastAPI: they must answer alike."""
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/read")
    async def read(request: Request) -> dict:
        return read_query(PendingQuery, request).model_dump()

    @app.get("/declared")
    async def declared(query: Annotated[PendingQuery, Query()]) -> dict:
        return query.model_dump()

    with serve_api(app) as url, httpx.Client(base_url=url) as http:
        yield http


@pytest.mark.parametrize("params", [
    [],
    [("limit", "7"), ("non_human", "true"), ("min_score", "0.5"), ("character", "a"), ("character", "b")],
    [("non_human", "0"), ("max_score", "1"), ("after", "123"), ("unknown", "x")],
    [("limit", "0"), ("status", "lost")],
    [("limit", "5.5"), ("non_human", "maybe"), ("min_score", "nan"), ("after", "9" * 65)],
    [("min_score", "-1"), ("max_score", "2"), ("limit", "201")],
])
def test_answers_as_fastapi_answers_for_declared_parameters(client, params):
    read, declared = client.get("/read", params=params), client.get("/declared", params=params)
    assert (read.status_code, read.json()) == (declared.status_code, declared.json())


def test_an_invalid_value_answers_422_naming_the_parameter(client):
    answer = client.get("/read", params={"limit": "0", "status": "lost"})
    assert answer.status_code == 422
    assert sorted(tuple(e["loc"]) for e in answer.json()["detail"]) == [("query", "limit"), ("query", "status")]
    assert client.get("/read", params={"character": "b", "limit": "3"}).json()["limit"] == 3
