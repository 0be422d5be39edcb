"""The partition sync sensor migrates its database once per process, not on every tick."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor, TimeoutError as FutureTimeout

import asyncpg
import dagster as dg

from resources.database import StudioDatabase
from sensors.partition_sync_sensor import partition_sync_sensor
from studio.db.migrate import MIGRATION_LOCK_ID, load_migrations


def _tick(instance, db_url: str):
    with dg.build_sensor_context(instance=instance, resources={"database": StudioDatabase(url=db_url)}) as context:
        return partition_sync_sensor(context)


def test_the_first_tick_on_an_empty_database_migrates_it(empty_db_url):
    with dg.instance_for_test() as instance:
        assert isinstance(_tick(instance, empty_db_url), dg.SkipReason)  # no rows yet: nothing to mirror

    async def versions() -> list[int]:
        conn = await asyncpg.connect(empty_db_url)
        try:
            return [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY 1")]
        finally:
            await conn.close()

    assert asyncio.run(versions()) == [m.version for m in load_migrations()]


def test_a_tick_does_not_wait_for_the_migration_lock_once_the_process_has_migrated(db_url):
    """Another process holds the migration lock (a long migration, a stuck session): ticks still finish."""
    loop = asyncio.new_event_loop()
    holder = loop.run_until_complete(asyncpg.connect(db_url))
    with dg.instance_for_test() as instance, ThreadPoolExecutor(1) as pool:
        try:
            _tick(instance, db_url)  # this process's first tick: migrates (nothing left to do) and remembers
            loop.run_until_complete(holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID))
            tick = pool.submit(_tick, instance, db_url)
            try:
                result = tick.result(timeout=20)
            except FutureTimeout:
                raise AssertionError("the tick waited for the migration lock") from None
            assert isinstance(result, dg.SkipReason)
        finally:
            loop.run_until_complete(holder.close())  # ends the session, so a waiting tick can finish
            loop.close()
