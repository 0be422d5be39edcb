"""FastAPI dependencies, in one module: the DB pool, settings, the media root.

They are `async def` although they do not await: FastAPI runs a plain `def` dependency in its
thread pool, and those hand-offs (several per request) were the largest cost of a cheap route.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg
from fastapi import Request

from api.settings import ApiSettings
from studio.settings import Settings


async def get_pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_api_settings(request: Request) -> ApiSettings:
    return request.app.state.api_settings


async def get_media_root(request: Request) -> Path:
    return request.app.state.settings.media_root
