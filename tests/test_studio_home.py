"""The studio home is the same from any folder, every command says which home and database it uses,
and two processes creating the same database at once both succeed."""

from __future__ import annotations

import asyncio
import subprocess
import uuid

import asyncpg

from studio.db.embedded import ensure_database
from studio.home import MARKER, default_home, project_root
from studio.settings import settings_for
from studio.where import where_line
from tests.service_processes import REPO, fresh_env


def test_home_is_found_from_a_subfolder_of_the_project(tmp_path):
    project = tmp_path / "project"
    (project / "episodes" / "deep").mkdir(parents=True)
    (project / MARKER).write_text("")
    assert project_root(project / "episodes" / "deep") == project
    assert default_home(project / "episodes" / "deep") == project / ".studio"


def test_outside_any_project_the_checkout_running_the_code_is_the_project():
    assert (REPO / MARKER).is_file()
    assert default_home(REPO.parent) == REPO / ".studio"


def test_a_command_run_from_another_folder_names_the_same_home_and_database(tmp_path):
    env = fresh_env(tmp_path)  # no STUDIO_HOME either
    del env["STUDIO_HOME"]
    env["STUDIO_DATABASE_URL"] = "postgresql://studio:s3cret@db.example:5432/studio"
    out = subprocess.run([str(REPO / ".venv/bin/studio"), "doctor", "--backend", "preview"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert f"studio home: {REPO / '.studio'}" in out.stderr
    assert "database: postgresql://studio:***@db.example:5432/studio" in out.stderr
    assert "s3cret" not in out.stderr + out.stdout


def test_where_line_names_the_embedded_server_folder(tmp_path):
    settings = settings_for(home=tmp_path / "h")
    assert where_line(settings) == f"studio home: {tmp_path / 'h'} | database: embedded PostgreSQL in {tmp_path / 'h' / 'pg'}"


async def test_concurrent_creation_of_one_database_succeeds_everywhere(pg_server_url):
    for _ in range(5):
        name = f"race_{uuid.uuid4().hex[:8]}"
        urls = await asyncio.gather(*(ensure_database(pg_server_url, name) for _ in range(6)))
        assert len(set(urls)) == 1
        conn = await asyncpg.connect(urls[0])
        assert await conn.fetchval("SELECT current_database()") == name
        await conn.close()
