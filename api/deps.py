"""FastAPI dependencies, in one module: the DB pool, settings, the media root."""

from __future__ import annotations

from pathlib import Path

import asyncpg
from fastapi import Request

from api.settings import ApiSettings
from studio.config import Settings


def get_pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_api_settings(request: Request) -> ApiSettings:
    return request.app.state.api_settings


def get_media_root(request: Request) -> Path:
    return request.app.state.settings.media_root
