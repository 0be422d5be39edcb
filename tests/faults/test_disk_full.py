"""The media disk full while a clip is written: a 2 MB tmpfs as the media root, filled up to a few KB
before the shot render and before the scene video. The run fails with a clear error, the database
registers no clip, and nothing is left under a final name or as a temporary file."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from anime_assets.scene_videos import scene_videos
from anime_assets.shots import shot_clips, shot_keyframes
from resources.database import StudioDatabase
from resources.image_generation import PreviewImageGeneratorResource
from resources.image_review import PreviewImageReviewerResource
from resources.scene_sound import SceneSoundResource
from resources.shot_rendering import PreviewShotRendererResource
from resources.studio_config import StudioConfig
from studio.db.pool import connect, create_pool
from studio.shots.keyframes import ensure_keyframes
from studio.shots.render_scene import ShotRenderFailed, render_scene
from studio.shots.renderers import PreviewShotRenderer
from tests.faults.live_batch import POOLS, failure_message
from tests.shot_scene import make_scene
from tests.test_dataset_batch import fetch

pytestmark = pytest.mark.fault
SCENE = "harbour-night"
NO_SPACE = "No space left on device"


@pytest.fixture
def small_media(studio_env) -> Path:
    """The studio's media root on a 2 MB tmpfs of its own."""
    media = studio_env / "media"
    media.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(media)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs for the media root (needs root): {mounted.stderr.strip()}")
    try:
        yield media
    finally:
        subprocess.run(["umount", "-l", str(media)], check=False)


def _fill(media: Path, leave_bytes: int) -> Path:
    """A filler file that leaves about `leave_bytes` free on the media filesystem."""
    stats = os.statvfs(media)
    filler = media / "filler.bin"
    with open(filler, "wb") as out:
        out.write(b"\0" * max(0, stats.f_bavail * stats.f_frsize - leave_bytes))
    return filler


def _materialize(db_url, home, assets) -> dg.ExecuteInProcessResult:
    resources = {"database": StudioDatabase(url=db_url), "studio": StudioConfig(backend="preview", home=str(home)),
                 "shot_renderer": PreviewShotRendererResource(keyframe_width=256, keyframe_height=144, fps=12),
                 "image_generator": PreviewImageGeneratorResource(), "image_reviewer": PreviewImageReviewerResource(),
                 "scene_sound": SceneSoundResource()}
    with dg.instance_for_test(overrides=POOLS) as instance:
        instance.add_dynamic_partitions("scene", [SCENE])
        return dg.materialize(assets, partition_key=SCENE, instance=instance, resources=resources,
                              raise_on_error=False)


def _scene(db_url) -> None:
    async def seed():
        async with connect(db_url) as conn:
            await make_scene(conn, shots=2, duration_s=1.0)

    asyncio.run(seed())


def _media_files(media: Path, folder: str) -> list[str]:
    root = media / folder
    return sorted(str(p.relative_to(media)) for p in root.rglob("*")) if root.is_dir() else []


def test_a_full_disk_while_rendering_a_shot_fails_clearly_and_registers_no_clip(small_media, studio_env, db_url):
    _scene(db_url)
    assert _materialize(db_url, studio_env, [shot_keyframes]).success
    keyframes = _media_files(small_media, "shots")
    filler = _fill(small_media, leave_bytes=8 * 1024)

    result = _materialize(db_url, studio_env, [shot_clips])
    assert not result.success
    message = failure_message(result)
    assert NO_SPACE in message and "k01" in message, message
    rows = fetch(db_url, "SELECT status, clip_path, last_frame_path, render_error FROM shots ORDER BY position")
    assert rows[0]["status"] == "failed" and NO_SPACE in rows[0]["render_error"]
    assert all(r["clip_path"] is None and r["last_frame_path"] is None for r in rows)
    assert _media_files(small_media, "shots") == keyframes  # no clip, no last frame, no temporary file

    filler.unlink()  # space again: the same run renders
    assert _materialize(db_url, studio_env, [shot_clips]).success
    assert [r["status"] for r in fetch(db_url, "SELECT status FROM shots ORDER BY position")] == ["rendered"] * 2


def test_a_full_disk_while_writing_the_scene_video_fails_clearly_and_leaves_no_file(small_media, studio_env, db_url):
    _scene(db_url)
    assert _materialize(db_url, studio_env, [shot_keyframes, shot_clips]).success
    _fill(small_media, leave_bytes=8 * 1024)

    result = _materialize(db_url, studio_env, [scene_videos])
    assert not result.success
    message = failure_message(result)
    assert NO_SPACE in message and SCENE in message, message
    assert _media_files(small_media, f"scenes/{SCENE}") in ([], [f"scenes/{SCENE}"]), \
        _media_files(small_media, f"scenes/{SCENE}")


class _FillsTheDiskAfterTheClip(PreviewShotRenderer):
    """The clip is written whole; then the disk is full before its last frame is taken."""

    def __init__(self, media: Path):
        super().__init__(256, 144, 12.0)
        self.media = media

    async def render(self, shot, start_frame, anchor, out, log):
        clip = await super().render(shot, start_frame, anchor, out, log)
        _fill(self.media, leave_bytes=0)
        return clip


async def test_a_disk_full_at_the_last_frame_takes_the_finished_clip_away_too(small_media, db_url):
    pool = await create_pool(db_url, max_size=4)
    try:
        async with pool.acquire() as conn:
            await make_scene(conn, shots=2, duration_s=1.0)
        log = logging.getLogger("disk_full")
        await ensure_keyframes(pool, SCENE, small_media, size=(256, 144), allow_drawing=True, log=log)
        keyframes = _media_files(small_media, "shots")
        with pytest.raises(ShotRenderFailed, match=f"scene {SCENE}, shot k01: .*{NO_SPACE}"):
            await render_scene(pool, SCENE, _FillsTheDiskAfterTheClip(small_media), small_media, log=log)
        rows = await pool.fetch("SELECT status, clip_path, last_frame_path FROM shots ORDER BY position")
        assert rows[0]["status"] == "failed" and rows[0]["clip_path"] is None
        assert _media_files(small_media, "shots") == keyframes  # the finished clip went with the failure
    finally:
        await pool.close()
