"""The studio database going away under a running dataset batch: its connections killed, or the server
stopped and started again. The batch resumes (or fails) cleanly: every image row has its file, its
review and its `image_reviewed` event, or there is no row and no file."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import asyncpg
import pytest

from studio.cli import main as studio
from studio.db.embedded import ensure_database, start_embedded_server, stop_embedded_server
from studio.db.migrate import migrate
from studio.db.pool import connect, create_pool
from studio.db.retry import DatabaseLost, in_transaction
from studio.shots.keyframes import ensure_keyframes
from studio.shots.render_scene import render_scene
from studio.shots.renderers import PreviewShotRenderer
from tests.conftest import EXAMPLE_SPEC
from tests.doubles.comfyui import ComfyUIDouble
from tests.doubles.ollama import OllamaDouble
from tests.faults.live_batch import (
    CHECKPOINT, Meanwhile, assert_nothing_half_written, failure_message, great, live_resources, run_batch,
    wait_until,
)
from tests.shot_scene import make_scene
from tests.test_dataset_batch import fetch

pytestmark = pytest.mark.fault


@pytest.fixture
def doubles():
    with ComfyUIDouble(job_seconds=1.0) as comfy, OllamaDouble(answer=great) as ollama:
        comfy.install("CheckpointLoaderSimple", "ckpt_name", CHECKPOINT)
        yield comfy, ollama


def _image_rows(db_url: str) -> int:
    return fetch(db_url, "SELECT count(*) AS n FROM images")[0]["n"]


def _terminate_connections(db_url: str) -> int:
    async def terminate():
        conn = await asyncpg.connect(db_url)
        try:
            return await conn.fetchval(
                """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                    WHERE datname = current_database() AND pid <> pg_backend_pid()""")
        finally:
            await conn.close()

    return asyncio.run(terminate())


def test_the_batch_connections_killed_mid_batch_and_it_carries_on(studio_env, db_url, doubles):
    comfy, ollama = doubles
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    killed = []

    def kill_after_the_first_image():
        wait_until(lambda: _image_rows(db_url) >= 1, what="the first image")
        killed.append(_terminate_connections(db_url))

    with Meanwhile(kill_after_the_first_image):
        result = run_batch(live_resources(db_url, studio_env, comfy, ollama), count=3)
    assert killed and killed[0] >= 1  # the batch's pooled connections really went
    assert result.success, failure_message(result)
    rows = assert_nothing_half_written(db_url, studio_env / "media")
    assert len(rows) == 3
    [history] = fetch(db_url, "SELECT status, generated FROM generation_history")
    assert history == {"status": "succeeded", "generated": 3}


@pytest.fixture(scope="module")
def own_pg(tmp_path_factory):
    """A PostgreSQL of this module's own, so stopping it disturbs no other test."""
    pg_dir = tmp_path_factory.mktemp("own_pg")
    start_embedded_server(pg_dir)
    yield pg_dir
    stop_embedded_server(pg_dir)


@pytest.fixture
def own_server(own_pg, tmp_path, monkeypatch):
    """A fresh database on the module's server (started again if a test left it stopped)."""
    url = asyncio.run(ensure_database(start_embedded_server(own_pg), f"studio_{uuid.uuid4().hex[:8]}"))
    home = tmp_path / "studio_home"
    monkeypatch.setenv("STUDIO_HOME", str(home))
    monkeypatch.setenv("STUDIO_DATABASE_URL", url)
    monkeypatch.setenv("STUDIO_BACKEND", "preview")
    monkeypatch.delenv("STUDIO_VAULT_ADDR", raising=False)
    return own_pg, url, home


def _restart(pg_dir, down_s: float) -> None:
    stop_embedded_server(pg_dir)
    time.sleep(down_s)
    start_embedded_server(pg_dir)


def test_the_database_restarted_mid_batch_and_the_batch_resumes_cleanly(own_server, doubles):
    pg_dir, url, home = own_server
    comfy, ollama = doubles
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0

    def restart_after_the_first_image():
        wait_until(lambda: _image_rows(url) >= 1, what="the first image")
        finished = len(comfy.jobs)
        _restart(pg_dir, down_s=2.5)
        assert len(comfy.jobs) > finished, "no image finished while the database was down"

    with Meanwhile(restart_after_the_first_image):
        result = run_batch(live_resources(url, home, comfy, ollama), count=3)
    assert result.success, failure_message(result)
    rows = assert_nothing_half_written(url, home / "media")
    assert len(rows) == 3 and all(r["status"] == "approved" for r in rows)
    [history] = fetch(url, "SELECT status, generated FROM generation_history")
    assert history == {"status": "succeeded", "generated": 3}


def _batch_locks(db_url: str) -> int:
    return fetch(db_url, """SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted
                             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())""")[0]["n"]


def test_the_batch_lock_is_taken_again_after_a_restart(own_server, doubles):
    """The restart took the lock with its connection; the batch holds it again before its next job, so
    a second batch of the character cannot start beside it and draw the same seeds."""
    pg_dir, url, home = own_server
    comfy, ollama = doubles
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    held_again = []

    def restart_after_the_first_image():
        wait_until(lambda: _image_rows(url) >= 1, what="the first image")
        assert _batch_locks(url) == 1
        _restart(pg_dir, down_s=1.0)
        wait_until(lambda: _batch_locks(url) == 1, timeout_s=20, what="the batch lock taken again")
        held_again.append(_image_rows(url) < 5)  # while the batch still runs

    with Meanwhile(restart_after_the_first_image):
        result = run_batch(live_resources(url, home, comfy, ollama), count=5)
    assert result.success, failure_message(result)
    assert held_again == [True]
    assert _batch_locks(url) == 0  # and given back at the end
    assert len(assert_nothing_half_written(url, home / "media")) == 5


async def test_a_database_that_stays_away_stops_the_work_in_bounded_time(own_server):
    pg_dir, url, _ = own_server
    pool = await create_pool(url, max_size=2)
    try:
        stop_embedded_server(pg_dir)
        started = time.monotonic()
        with pytest.raises(DatabaseLost, match="away for more than 2 s") as lost:
            await in_transaction(pool, lambda conn: conn.fetchval("SELECT 1"), within_s=2.0, retry_every_s=0.2)
        assert time.monotonic() - started < 10 and lost.value.permanent  # a batch stops at it
    finally:
        pool.terminate()


class _RestartingRenderer(PreviewShotRenderer):
    """Restarts the database while it renders the first shot, as an operator might while the GPU works;
    while rendering each later shot it notes whether the scene's lock is held."""

    def __init__(self, pg_dir, url):
        super().__init__(width=128, height=72, fps=12)
        self.pg_dir, self.url, self.locks_seen = pg_dir, url, []

    async def render(self, shot, start_frame, anchor, out, log):
        if not self.locks_seen and shot.key.endswith("1"):
            await asyncio.to_thread(_restart, self.pg_dir, 1.0)
        else:
            self.locks_seen.append(await asyncio.to_thread(_batch_locks, self.url))
        return await super().render(shot, start_frame, anchor, out, log)


async def test_a_scene_render_rides_out_a_database_restart(own_server, tmp_path):
    """The shot rendered during the restart is recorded (its GPU minutes are not lost), the lock is taken
    again before the next shot, and every shot ends rendered."""
    pg_dir, url, _ = own_server
    async with connect(url) as conn:
        await migrate(conn)
        keys = await make_scene(conn, shots=3)
    pool = await create_pool(url, max_size=4)
    log = logging.getLogger("test_scene_restart")
    try:
        await ensure_keyframes(pool, "harbour-night", tmp_path, size=(128, 72), allow_drawing=True, log=log)
        renderer = _RestartingRenderer(pg_dir, url)
        report = await render_scene(pool, "harbour-night", renderer, tmp_path, log=log)
        assert report.rendered == keys
        assert renderer.locks_seen == [1, 1]  # held again for the shots after the restart
        rows = await pool.fetch("SELECT status, clip_path FROM shots ORDER BY position")
        assert [r["status"] for r in rows] == ["rendered"] * 3
        assert all((tmp_path / r["clip_path"]).is_file() for r in rows)
    finally:
        await pool.close()
    assert await asyncio.to_thread(_batch_locks, url) == 0
