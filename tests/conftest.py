"""Shared fixtures: one real embedded PostgreSQL per session, a fresh database per test."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest

from studio.db.embedded import database_url, start_embedded_server, stop_embedded_server
from studio.db.migrate import migrate
from studio.db.pool import connect

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_SPEC = REPO / "examples" / "lantern_harbor.yaml"
FIXTURES = REPO.parent / "shared" / "fixtures"
TEMPLATE_DB = "studio_template"


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory) -> str:
    """URL of the maintenance database of a real PostgreSQL started for this test session."""
    pg_dir = tmp_path_factory.mktemp("pg")
    url = start_embedded_server(pg_dir)

    async def _make_template() -> None:
        admin = await asyncpg.connect(url)
        await admin.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
        await admin.close()
        async with connect(database_url(url, TEMPLATE_DB)) as conn:
            await migrate(conn)

    asyncio.run(_make_template())
    yield url
    stop_embedded_server(pg_dir)


def _create_database(server_url: str, template: str | None) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"

    async def _create() -> None:
        admin = await asyncpg.connect(server_url)
        clause = f' TEMPLATE "{template}"' if template else ""
        await admin.execute(f'CREATE DATABASE "{name}"{clause}')
        await admin.close()

    asyncio.run(_create())
    return database_url(server_url, name)


@pytest.fixture
def db_url(pg_server_url) -> str:
    """A fresh, migrated studio database of its own for this test."""
    return _create_database(pg_server_url, TEMPLATE_DB)


@pytest.fixture
def new_db_url(pg_server_url):
    """Makes another fresh, migrated studio database each call, for a test that needs several."""
    return lambda: _create_database(pg_server_url, TEMPLATE_DB)


@pytest.fixture
def empty_db_url(pg_server_url) -> str:
    """A fresh database with no tables at all."""
    return _create_database(pg_server_url, None)


@pytest.fixture
async def db(db_url):
    async with connect(db_url) as conn:
        yield conn


@pytest.fixture
def studio_env(tmp_path, db_url, monkeypatch) -> Path:
    """Environment for code that reads settings: its own home, the test database, preview backends."""
    home = tmp_path / "studio_home"
    monkeypatch.setenv("STUDIO_HOME", str(home))
    monkeypatch.setenv("STUDIO_DATABASE_URL", db_url)
    monkeypatch.setenv("STUDIO_BACKEND", "preview")
    monkeypatch.delenv("STUDIO_VAULT_ADDR", raising=False)
    return home
