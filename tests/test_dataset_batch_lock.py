"""One dataset batch of a character at a time, and a batch a dead run left `started` is closed.

Two batches of one character would draw the same seeds (the offset counts finished batches only), so
a batch holds the character's lock; under it, a history row still `started` can only be a dead run's.
"""

import asyncio
import logging
import os
import time

import pytest

from studio.cli import main as studio
from studio.datasets import repository
from studio.datasets.batch import batch_lock, run_batch
from studio.datasets.generators import PreviewImageGenerator
from studio.db.advisory import TAKEOVER_GRACE_S
from studio.db.pool import create_pool
from studio.review.reviewers import PreviewImageReviewer
from studio.uploads import ABANDONED_AFTER_S
from tests.conftest import EXAMPLE_SPEC


@pytest.fixture
def imported(studio_env, db_url):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    return studio_env


def _batch(pool, character, media, run_id):
    return run_batch(pool, character, PreviewImageGenerator(max_side=64), PreviewImageReviewer(), media, count=1,
                     run_id=run_id)


def with_mika(db_url, work):
    """Run `work(pool, mika)` on a pool of the test database; its result."""
    async def go():
        pool = await create_pool(db_url)
        try:
            return await work(pool, await repository.load_character(pool, "mika"))
        finally:
            await pool.close()

    return asyncio.run(go())


def test_a_second_batch_of_a_character_is_refused_while_one_runs(imported, db_url):
    async def work(pool, character):
        async with pool.acquire() as running:
            await repository.lock_batches(running, character)  # a batch of another run holds it
            with pytest.raises(repository.BatchBusy, match="'mika' has a dataset batch running"):
                await _batch(pool, character, imported / "media", "second")
            await repository.unlock_batches(running, character)
        await _batch(pool, character, imported / "media", "third")  # free again once it ended
        return await pool.fetch("SELECT dagster_run_id, status FROM generation_history")

    assert [dict(r) for r in with_mika(db_url, work)] == [{"dagster_run_id": "third", "status": "succeeded"}]


def test_a_batch_left_started_by_a_dead_run_is_marked_failed_by_the_next(imported, db_url):
    async def work(pool, character):
        async with pool.acquire() as conn:
            await repository.start_history(conn, character.id, 3, "preview", "killed")
        await _batch(pool, character, imported / "media", "next")
        return await pool.fetch("SELECT dagster_run_id, status, error, finished_at IS NOT NULL AS finished "
                                "FROM generation_history ORDER BY id")

    killed, following = [dict(r) for r in with_mika(db_url, work)]
    assert killed == {"dagster_run_id": "killed", "status": "failed", "finished": True,
                      "error": "interrupted: the run stopped mid-batch"}
    assert following["status"] == "succeeded"


async def _kill_backend(pool, conn) -> None:
    """What a database restart does to the lock's connection: its server process goes, the lock with it."""
    await pool.execute("SELECT pg_terminate_backend($1)", conn.get_server_pid())
    await asyncio.sleep(0.3)  # the pool hears of the lost connection


def test_a_lock_lost_with_its_connection_is_taken_again_before_the_next_job(imported, db_url):
    async def work(pool, character):
        async with batch_lock(pool, character, logging.getLogger("test")) as lock:
            await _kill_backend(pool, lock.connection)
            async with pool.acquire() as other:  # free now: another batch could start
                await repository.lock_batches(other, character)
                await repository.unlock_batches(other, character)
            await lock.hold()
            async with pool.acquire() as other:
                with pytest.raises(repository.BatchBusy):
                    await repository.lock_batches(other, character)
        async with pool.acquire() as other:  # given back at the end
            await repository.lock_batches(other, character)

    with_mika(db_url, work)


def test_a_lock_another_run_took_meanwhile_stops_the_batch(imported, db_url):
    async def work(pool, character):
        async with batch_lock(pool, character, logging.getLogger("test")) as lock:
            await _kill_backend(pool, lock.connection)
            async with pool.acquire() as other:
                await repository.lock_batches(other, character)
                with pytest.raises(repository.BatchBusy) as busy:
                    await lock.hold()
                assert busy.value.permanent  # the batch stops instead of failing job after job

    with_mika(db_url, work)


def test_the_lock_of_a_run_that_is_going_away_is_waited_for_not_refused(imported, db_url):
    # A killed run's database backend frees its lock only once it notices the closed socket: the run
    # that follows takes the lock when it is freed within the grace, and is refused when it is not.
    async def work(pool, character):
        async with pool.acquire() as dying, pool.acquire() as next_run:
            await repository.lock_batches(dying, character)
            asyncio.get_running_loop().call_later(0.3, lambda: asyncio.ensure_future(
                repository.unlock_batches(dying, character)))
            started = asyncio.get_running_loop().time()
            await repository.lock_batches(next_run, character)
            waited = asyncio.get_running_loop().time() - started
            await repository.unlock_batches(next_run, character)
            await repository.lock_batches(dying, character)
            with pytest.raises(repository.BatchBusy):
                await repository.lock_batches(next_run, character)
            refused_after = asyncio.get_running_loop().time() - started - waited
            await repository.unlock_batches(dying, character)
            return waited, refused_after

    waited, refused_after = with_mika(db_url, work)
    assert 0.25 < waited < 1.0 and refused_after >= TAKEOVER_GRACE_S


def test_a_file_a_killed_run_left_half_written_is_removed_by_the_next_batch(imported, db_url):
    folder = imported / "media" / "datasets" / "mika" / "images"
    folder.mkdir(parents=True, exist_ok=True)
    abandoned, in_flight = folder / ".0a1b2c.png.4242.17.tmp", folder / ".3d4e5f.png.4343.18.tmp"
    for path in (abandoned, in_flight):
        path.write_bytes(b"half a png")
    long_ago = time.time() - ABANDONED_AFTER_S - 60
    os.utime(abandoned, (long_ago, long_ago))

    with_mika(db_url, lambda pool, character: _batch(pool, character, imported / "media", "next"))
    assert not abandoned.exists() and in_flight.exists()
    assert sorted(p.suffix for p in folder.iterdir()) == [".png", ".tmp"]
