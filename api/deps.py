"""FastAPI dependencies, in one module: the DB pool, the settings, the media root, the caller, and the
clients of the services the API talks to. Routes declare them with the `Annotated` aliases below.

They are `async def` although most do not await: FastAPI runs a plain `def` dependency in its
thread pool, and those hand-offs (several per request) were the largest cost of a cheap route.
"""

from pathlib import Path
from typing import Annotated, AsyncIterator

import asyncpg
from fastapi import Depends, Query, Request

from api.auth import User, require_user
from studio.clients.echo import EchoClient
from studio.clients.ollama import OllamaClient
from studio.dagster_runs import DagsterRuns
from studio.settings import Settings


async def get_pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool


async def get_connection(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection for the whole request (the story routes run several statements)."""
    async with request.app.state.pool.acquire() as conn:
        yield conn


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_media_root(request: Request) -> Path:
    return request.app.state.settings.media_root


async def get_vision_ollama(request: Request) -> OllamaClient:
    """The same Ollama server and vision model the dataset assets use (one settings class)."""
    settings: Settings = request.app.state.settings
    return OllamaClient(settings.ollama_url, vision_model=settings.vision_model, text_model=settings.text_model)


async def get_echo(request: Request) -> EchoClient:
    settings: Settings = request.app.state.settings
    return EchoClient(settings.echo_url, model=settings.echo_model, ollama_url=settings.ollama_url)


async def get_dagster_runs(request: Request) -> DagsterRuns:
    return DagsterRuns(request.app.state.settings.dagster_graphql_url)


Pool = Annotated[asyncpg.Pool, Depends(get_pool)]
Connection = Annotated[asyncpg.Connection, Depends(get_connection)]
AppSettings = Annotated[Settings, Depends(get_settings)]
MediaRoot = Annotated[Path, Depends(get_media_root)]
CurrentUser = Annotated[User, Depends(require_user)]
VisionOllama = Annotated[OllamaClient, Depends(get_vision_ollama)]
Echo = Annotated[EchoClient, Depends(get_echo)]
Dagster = Annotated[DagsterRuns, Depends(get_dagster_runs)]
# ?project=<slug> on list routes.
ProjectFilter = Annotated[str | None, Query(description="project slug; all if omitted")]
