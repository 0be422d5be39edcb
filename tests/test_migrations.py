import asyncio
import subprocess
import sys

import asyncpg
import pytest

from studio.db.migrate import load_migrations, migrate
from studio.db.pool import connect


async def _schema(conn) -> list:
    rows = await conn.fetch(
        """SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
            WHERE table_schema = 'public' ORDER BY table_name, column_name"""
    )
    indexes = await conn.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname='public' ORDER BY 1")
    return [tuple(r) for r in rows] + [tuple(r) for r in indexes]


async def test_migrations_create_every_table_once_and_reapply_is_a_no_op(empty_db_url):
    async with connect(empty_db_url) as conn:
        first = await migrate(conn)
        schema_after_first = await _schema(conn)
        second = await migrate(conn)
        assert first == [m.version for m in load_migrations()]
        assert second == []
        assert await _schema(conn) == schema_after_first
        tables = {r[0] for r in schema_after_first}
        for table in (
            "projects", "generation_styles", "characters", "storylines", "world_settings", "scenes",
            "shots", "episodes", "episode_scenes", "images", "review_feedback", "generation_history",
            "autonomy_decisions", "lora_checkpoints", "schema_migrations",
        ):
            assert table in tables


MIGRATE_SCRIPT = """
import asyncio, sys
from studio.db.pool import connect
from studio.db.migrate import migrate
async def main():
    async with connect(sys.argv[1]) as conn:
        print(await migrate(conn))
asyncio.run(main())
"""


def test_two_processes_migrating_at_once_one_applies_the_other_waits(empty_db_url):
    procs = [
        subprocess.Popen([sys.executable, "-c", MIGRATE_SCRIPT, empty_db_url],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    applied = [out.strip() for out, _ in outputs]
    # One applied every migration; the one that waited for the lock found nothing left to do.
    assert sorted(applied, key=len) == ["[]", str([m.version for m in load_migrations()])]

    async def versions():
        async with connect(empty_db_url) as conn:
            return await conn.fetch("SELECT version FROM schema_migrations")

    assert len(asyncio.run(versions())) == len(load_migrations())


async def _character(db) -> int:
    project = await db.fetchval("INSERT INTO projects (slug, name) VALUES ('p', 'P') RETURNING id")
    return await db.fetchval(
        "INSERT INTO characters (project_id, slug, name, design_prompt) VALUES ($1, 'c', 'C', 'x') RETURNING id",
        project,
    )


async def test_the_same_image_cannot_be_registered_twice(db):
    character = await _character(db)
    insert = "INSERT INTO images (character_id, file_path, sha256, phash) VALUES ($1, $2, $3, 0)"
    await db.execute(insert, character, "a.png", "abc")
    with pytest.raises(asyncpg.UniqueViolationError):
        await db.execute(insert, character, "b.png", "abc")
    with pytest.raises(asyncpg.UniqueViolationError):
        await db.execute(insert, character, "a.png", "def")


async def test_image_status_and_foreign_keys_are_enforced(db):
    character = await _character(db)
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute(
            "INSERT INTO images (character_id, file_path, sha256, phash, status) VALUES ($1, 'x', 'y', 0, 'maybe')",
            character,
        )
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await db.execute("INSERT INTO images (character_id, file_path, sha256, phash) VALUES (999, 'x', 'y', 0)")
