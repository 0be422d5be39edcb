"""Shot clips on the preview backend: real ffmpeg, the real studio DB, the chain rules end to end."""

import asyncio
import logging
import multiprocessing
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.db.pool import connect, create_pool
from studio.media.clips import (ChannelStats, colour_matched_copy, extract_last_frame, first_frame, load_rgb,
                                media_info, psnr, sha256_file)
from studio.shots.keyframes import ensure_keyframes
from studio.shots.render_scene import render_scene
from studio.shots.renderers import PreviewShotRenderer
from studio.shots.repository import SceneBusy
from studio.domain.appearance import Appearance
from studio.preview.character_image import draw_character
from tests.shot_scene import APPEARANCE, make_scene

LOG = logging.getLogger("test_shot_clips")
SIZE = (256, 144)


def renderer() -> PreviewShotRenderer:
    return PreviewShotRenderer(width=SIZE[0], height=SIZE[1], fps=12)


async def _prepare(db_url, media, shots=4, cuts=()):
    pool = await create_pool(db_url, max_size=4)
    async with pool.acquire() as conn:
        keys = await make_scene(conn, shots=shots, cuts=cuts)
    await ensure_keyframes(pool, "harbour-night", media, size=SIZE, allow_drawing=True, log=LOG)
    return pool, keys


async def _rows(pool):
    return [dict(r) for r in await pool.fetch(
        "SELECT shot_key, status, clip_path, last_frame_path, start_frame_path, start_frame_sha256, input_hash, "
        "gpu_seconds, rendered_duration_s, keyframe_path FROM shots ORDER BY position")]


async def test_each_shot_starts_on_the_exact_last_frame_of_the_one_before(db_url, tmp_path):
    pool, keys = await _prepare(db_url, tmp_path, shots=3)
    try:
        report = await render_scene(pool, "harbour-night", renderer(), tmp_path, log=LOG)
        assert report.rendered == keys
        rows = await _rows(pool)
        assert [r["status"] for r in rows] == ["rendered"] * 3
        for before, after in zip(rows, rows[1:]):
            last = tmp_path / before["last_frame_path"]
            # The start frame used is the extracted last frame itself, byte for byte ...
            assert (tmp_path / after["start_frame_path"]).read_bytes() == last.read_bytes()
            assert after["start_frame_sha256"] == sha256_file(last)
            # ... it has the clip's size, and the next clip opens on it.
            assert Image.open(last).size == SIZE
            opening = first_frame(tmp_path / after["clip_path"], tmp_path / "opening.png")
            assert psnr(load_rgb(last), load_rgb(opening)) >= 35
        for row in rows:
            info = media_info(tmp_path / row["clip_path"])
            assert (info.video.codec, info.video.width, info.video.height) == ("h264", *SIZE)
            assert abs(info.duration_s - row["rendered_duration_s"]) < 0.1
            assert row["gpu_seconds"] > 0
    finally:
        await pool.close()


def test_colour_matching_pulls_a_drifted_clip_back_to_the_anchor(tmp_path):
    anchor = np.asarray(draw_character(Appearance.model_validate(APPEARANCE), seed=3, width=256, height=144))
    Image.fromarray(anchor).save(tmp_path / "anchor.png")
    # A clip that darkens and shifts towards blue second by second, as chained segments do.
    drift = tmp_path / "drift"
    drift.mkdir()
    for i in range(24):
        frame = anchor.astype(float) * (1 - 0.012 * i) + np.array([-1.0, 0.0, 1.5]) * i
        Image.fromarray(np.clip(frame, 0, 255).astype(np.uint8)).save(drift / f"f{i:03d}.png")
    from studio.media.ffmpeg import run_ffmpeg
    run_ffmpeg(["-y", "-framerate", "12", "-i", str(drift / "f%03d.png"), "-c:v", "libx264", "-crf", "16",
                "-pix_fmt", "yuv420p", str(tmp_path / "drifted.mp4")])
    colour_matched_copy(tmp_path / "drifted.mp4", tmp_path / "anchor.png", tmp_path / "matched.mp4")
    target = ChannelStats.of(anchor)

    def last_mean_error(clip):
        last = load_rgb(extract_last_frame(clip, tmp_path / f"{clip.stem}_last.png"))
        return float(np.abs(ChannelStats.of(last).mean - target.mean).max())

    assert last_mean_error(tmp_path / "drifted.mp4") > 20
    assert last_mean_error(tmp_path / "matched.mp4") < 2
    assert psnr(anchor, load_rgb(tmp_path / "matched_last.png")) > psnr(anchor, load_rgb(tmp_path / "drifted_last.png")) + 8


def test_last_frame_extraction_refuses_a_file_without_video(tmp_path):
    (tmp_path / "x.mp4").write_bytes(b"not a video")
    with pytest.raises(ValueError):
        extract_last_frame(tmp_path / "x.mp4", tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


async def test_editing_one_shot_renders_it_and_only_later_shots_whose_start_changed(db_url, tmp_path):
    pool, keys = await _prepare(db_url, tmp_path, shots=5, cuts=(3,))
    try:
        await render_scene(pool, "harbour-night", renderer(), tmp_path, log=LOG)
        before = await _rows(pool)
        again = await render_scene(pool, "harbour-night", renderer(), tmp_path, log=LOG)
        assert again.rendered == [] and again.skipped == keys
        await pool.execute("UPDATE shots SET dialogue = '[{\"character\": \"mika\", \"line\": \"hi\"}]' "
                           "WHERE shot_key = $1", keys[1])
        assert (await render_scene(pool, "harbour-night", renderer(), tmp_path, log=LOG)).rendered == []
        await pool.execute("UPDATE shots SET motion_prompt = 'she runs' WHERE shot_key = $1", keys[1])
        edited = await render_scene(pool, "harbour-night", renderer(), tmp_path, log=LOG)
        # Shot 2 and the rest of its chain; shot 4 is a cut and starts from its own keyframe.
        assert edited.rendered == keys[1:3]
        after = await _rows(pool)
        assert [a["input_hash"] == b["input_hash"] for a, b in zip(after, before)] == [True, False, False, True, True]
        # Old clips of re-rendered shots are gone, the new ones are there.
        for a, b in zip(after[1:3], before[1:3]):
            assert not (tmp_path / b["clip_path"]).exists() and (tmp_path / a["clip_path"]).is_file()
        (tmp_path / after[4]["clip_path"]).unlink()
        assert (await render_scene(pool, "harbour-night", renderer(), tmp_path, log=LOG)).rendered == [keys[4]]
    finally:
        await pool.close()


async def test_a_second_render_of_the_same_scene_is_refused_while_one_runs(db_url, tmp_path):
    pool, _ = await _prepare(db_url, tmp_path, shots=1)
    try:
        async with connect(db_url) as other:
            from studio.shots.repository import lock_scene
            await lock_scene(other, "harbour-night")
            with pytest.raises(SceneBusy, match="being rendered by another run"):
                await render_scene(pool, "harbour-night", renderer(), tmp_path, log=LOG)
    finally:
        await pool.close()


class _SlowRenderer(PreviewShotRenderer):
    """Signals after each finished shot, so the parent can kill the run mid-scene."""

    async def render(self, shot, start_frame, anchor, out, log):
        if shot.key == "k03":
            Path(os.environ["SHOT_MARK"]).write_text("in flight")
            await asyncio.sleep(60)
        return await super().render(shot, start_frame, anchor, out, log)


def _run_scene(db_url: str, media: str, mark: str) -> None:
    os.environ["SHOT_MARK"] = mark

    async def main():
        pool = await create_pool(db_url, max_size=2)
        await render_scene(pool, "harbour-night", _SlowRenderer(width=SIZE[0], height=SIZE[1], fps=12),
                           Path(media), log=LOG)

    asyncio.run(main())


async def test_a_run_killed_mid_scene_resumes_without_redoing_finished_shots(db_url, tmp_path):
    pool, keys = await _prepare(db_url, tmp_path, shots=4)
    mark = tmp_path / "mark"
    process = multiprocessing.get_context("spawn").Process(target=_run_scene, args=(db_url, str(tmp_path), str(mark)))
    process.start()
    try:
        deadline = time.monotonic() + 60
        while not mark.exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert mark.exists(), "the run never reached the third shot"
        os.kill(process.pid, signal.SIGKILL)
        process.join(10)
        rows = await _rows(pool)
        assert [r["status"] for r in rows] == ["rendered", "rendered", "rendering", "planned"]
        finished = {r["shot_key"]: r["clip_path"] for r in rows[:2]}
        report = await render_scene(pool, "harbour-night", renderer(), tmp_path, log=LOG)
        assert report.interrupted == ["k03"]
        assert report.skipped == keys[:2] and report.rendered == keys[2:]
        rows = await _rows(pool)
        assert [r["status"] for r in rows] == ["rendered"] * 4
        assert {r["shot_key"]: r["clip_path"] for r in rows[:2]} == finished
    finally:
        if process.is_alive():
            process.kill()
        await pool.close()


class _HeldRenderer(PreviewShotRenderer):
    """Holds the third shot until cancelled, after telling the test it is in flight."""

    def __init__(self, in_flight: asyncio.Event):
        super().__init__(width=SIZE[0], height=SIZE[1], fps=12)
        self.in_flight = in_flight

    async def render(self, shot, start_frame, anchor, out, log):
        if shot.key == "k03":
            self.in_flight.set()
            await asyncio.sleep(60)
        return await super().render(shot, start_frame, anchor, out, log)


async def test_a_stopped_render_leaves_no_shot_rendering_and_the_next_one_goes_on_from_there(db_url, tmp_path):
    pool, keys = await _prepare(db_url, tmp_path, shots=4)
    try:
        in_flight = asyncio.Event()
        task = asyncio.create_task(render_scene(pool, "harbour-night", _HeldRenderer(in_flight), tmp_path, log=LOG))
        await asyncio.wait_for(in_flight.wait(), 60)
        task.cancel()  # what stopping the Dagster run does to the asset's coroutine
        with pytest.raises(asyncio.CancelledError):
            await task
        rows = await pool.fetch("SELECT status, render_error FROM shots ORDER BY position")
        assert [r["status"] for r in rows] == ["rendered", "rendered", "planned", "planned"]
        assert rows[2]["render_error"].startswith("interrupted: the run was stopped")
        report = await render_scene(pool, "harbour-night", renderer(), tmp_path, log=LOG)
        assert report.interrupted == [] and report.skipped == keys[:2] and report.rendered == keys[2:]
    finally:
        await pool.close()


async def test_each_shot_logs_the_time_left_and_the_runs_api_sees_the_scene_advance(db_url, tmp_path, caplog):
    pool, keys = await _prepare(db_url, tmp_path, shots=3)
    try:
        with caplog.at_level(logging.INFO, logger=LOG.name):
            await render_scene(pool, "harbour-night", renderer(), tmp_path, log=LOG, run_id="run-1")
        lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("shot ")]
        assert [line.split(":")[0] for line in lines] == [f"shot {i}/3 {k}" for i, k in enumerate(keys, 1)]
        assert all(" s left" in line or " min left" in line for line in lines[:2])
        assert lines[2].endswith("scene done")
        step = await pool.fetchrow("SELECT done, total, counts, last_item FROM run_progress "
                                   "WHERE dagster_run_id = 'run-1' AND step = 'shot_clips'")
        assert (step["done"], step["total"], step["counts"], step["last_item"]) == \
               (3, 3, {"rendered": 3}, f"{keys[2]}: rendered")
        await render_scene(pool, "harbour-night", renderer(), tmp_path, log=LOG, run_id="run-2")
        assert await pool.fetchval("SELECT counts FROM run_progress WHERE dagster_run_id = 'run-2'") == {"kept": 3}
    finally:
        await pool.close()
