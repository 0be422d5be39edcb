"""ComfyUI restarted under a running job, and ComfyUI gone for good, for a dataset batch and a shot render.

The double's `stop_serving()` closes its port and kills the running job; `serve_again()` listens on the
same port with an empty queue and history, as a restarted ComfyUI does (after_restart_history.txt).
"""

from __future__ import annotations

import asyncio
import time

import dagster as dg
import pytest

from anime_assets.shots import shot_clips, shot_keyframes
from resources.comfyui import ComfyUIResource
from resources.database import StudioDatabase
from resources.image_generation import PreviewImageGeneratorResource
from resources.image_review import PreviewImageReviewerResource
from resources.shot_rendering import FramePackShotRendererResource
from resources.studio_config import StudioConfig
from studio.cli import main as studio
from studio.clients.comfyui import ComfyUIClient
from studio.db.pool import connect
from tests.conftest import EXAMPLE_SPEC
from tests.doubles.comfyui import ComfyUIDouble
from tests.doubles.ollama import OllamaDouble
from tests.faults.live_batch import (
    CHECKPOINT, POOLS, Meanwhile, assert_nothing_half_written, failure_message, great, live_resources, run_batch,
    wait_until,
)
from tests.framepack_info import FRAMEPACK_MODEL, framepack_double
from tests.shot_scene import make_scene
from tests.test_comfyui_client import workflow
from tests.test_dataset_batch import fetch

pytestmark = pytest.mark.fault


def _running(comfy: ComfyUIDouble) -> bool:
    """A job is in its sampler (progress messages have gone out)."""
    return any(message["type"] == "progress" for _, message in list(comfy.sent))


def _gone_mid_job(comfy: ComfyUIDouble) -> None:
    wait_until(lambda: _running(comfy), what="a job to be running")
    comfy.stop_serving()


def _restart_mid_job(comfy: ComfyUIDouble, down_s: float = 1.0) -> None:
    _gone_mid_job(comfy)
    time.sleep(down_s)
    comfy.serve_again()


@pytest.fixture
def comfy_and_ollama(studio_env):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    with ComfyUIDouble(job_seconds=1.0) as comfy, OllamaDouble(answer=great) as ollama:
        comfy.install("CheckpointLoaderSimple", "ckpt_name", CHECKPOINT)
        yield comfy, ollama


def test_a_comfyui_restart_mid_batch_costs_a_resubmit_and_the_batch_completes(comfy_and_ollama, studio_env, db_url):
    comfy, ollama = comfy_and_ollama
    with Meanwhile(lambda: _restart_mid_job(comfy)):
        result = run_batch(live_resources(db_url, studio_env, comfy, ollama, unreachable_timeout_s=20.0))
    assert result.success
    assert "killed" in [job.status for job in comfy.jobs]  # the restart really hit a running job
    rows = assert_nothing_half_written(db_url, studio_env / "media")
    assert len(rows) == 3 and all(r["status"] == "approved" for r in rows)
    # Each image is the output of a prompt the restarted server ran to the end.
    finished = {job.prompt_id for job in comfy.jobs if job.status == "success"}
    assert {r["comfy_prompt_id"] for r in rows} <= finished
    [history] = fetch(db_url, "SELECT status, generated FROM generation_history")
    assert history == {"status": "succeeded", "generated": 3}


def test_comfyui_gone_for_good_fails_the_batch_as_not_reachable_with_nothing_half_written(
        comfy_and_ollama, studio_env, db_url):
    comfy, ollama = comfy_and_ollama

    def go_away_after_the_first_image():
        wait_until(lambda: fetch(db_url, "SELECT count(*) AS n FROM images")[0]["n"] >= 1, what="the first image")
        comfy.stop_serving()

    started = time.monotonic()
    with Meanwhile(go_away_after_the_first_image):
        result = run_batch(live_resources(db_url, studio_env, comfy, ollama, unreachable_timeout_s=3.0), count=4)
    assert not result.success
    assert time.monotonic() - started < 40  # bounded by unreachable_timeout_s, not the hour-long queue timeout
    message = failure_message(result)
    assert f"ComfyUI at {comfy.url} is not reachable" in message, message
    rows = assert_nothing_half_written(db_url, studio_env / "media")
    assert 1 <= len(rows) < 4
    [history] = fetch(db_url, "SELECT status, error FROM generation_history")
    assert history["status"] == "failed" and "not reachable" in history["error"]


async def test_a_job_posted_while_comfyui_restarts_waits_for_it_and_runs():
    with ComfyUIDouble() as comfy:
        client = ComfyUIClient([comfy.url], poll_interval_s=0.1, history_timeout_s=1.0, unreachable_timeout_s=10.0)
        async with client.session():
            await client.run(workflow(seed=1))  # it answered: a refusal from now on may be a restart
            await asyncio.to_thread(comfy.stop_serving)
            job = asyncio.create_task(client.run(workflow(seed=2)))
            await asyncio.sleep(1.0)
            assert not job.done()  # waiting for the server, not failed as "not reachable"
            await asyncio.to_thread(comfy.serve_again)
            run = await asyncio.wait_for(job, timeout=20)
        assert run.outputs and [j.status for j in comfy.jobs] == ["success", "success"]


# --- a shot render ---------------------------------------------------------------------------------------------
def _render(db_url, home, double: ComfyUIDouble, **comfy_config) -> dg.ExecuteInProcessResult:
    comfyui = ComfyUIResource(urls=[double.url], **{"poll_interval_s": 0.2, "history_timeout_s": 1.0, **comfy_config})
    renderer = FramePackShotRendererResource(comfyui=comfyui, model=FRAMEPACK_MODEL, steps=4, keyframe_width=160,
                                             keyframe_height=96)
    resources = {"database": StudioDatabase(url=db_url), "studio": StudioConfig(backend="preview", home=str(home)),
                 "shot_renderer": renderer, "image_generator": PreviewImageGeneratorResource(),
                 "image_reviewer": PreviewImageReviewerResource()}
    with dg.instance_for_test(overrides=POOLS) as instance:
        instance.add_dynamic_partitions("scene", ["harbour-night"])
        return dg.materialize([shot_keyframes, shot_clips], partition_key="harbour-night", instance=instance,
                              resources=resources, raise_on_error=False)


@pytest.fixture
def scene(db_url) -> list[str]:
    async def seed():
        async with connect(db_url) as conn:
            return await make_scene(conn, shots=2, duration_s=1.0)

    return asyncio.run(seed())


def _clips_on_disk(home) -> list[str]:
    """Clips, last frames and temporary files under the scene's shots (keyframes are not the render's)."""
    folder = home / "media" / "shots" / "harbour-night"
    return sorted(str(p.relative_to(home / "media")) for p in folder.rglob("*")
                  if p.is_file() and p.name.startswith(("clip-", "last-", ".")))


def test_a_comfyui_restart_mid_shot_render_and_the_scene_still_renders(scene, studio_env, db_url):
    double = framepack_double()
    double.job_seconds = 1.0
    with double, Meanwhile(lambda: _restart_mid_job(double)):
        result = _render(db_url, studio_env, double, unreachable_timeout_s=20.0)
    assert result.success
    assert "killed" in [job.status for job in double.jobs]
    rows = fetch(db_url, "SELECT status, clip_path, last_frame_path FROM shots ORDER BY position")
    assert [r["status"] for r in rows] == ["rendered", "rendered"]
    assert _clips_on_disk(studio_env) == sorted(p for r in rows for p in (r["clip_path"], r["last_frame_path"]))


def test_comfyui_gone_for_good_mid_shot_fails_that_shot_clearly_and_leaves_no_clip(scene, studio_env, db_url):
    double = framepack_double()
    double.job_seconds = 1.0
    with double, Meanwhile(lambda: _gone_mid_job(double)):
        result = _render(db_url, studio_env, double, unreachable_timeout_s=3.0)
    assert not result.success
    assert f"ComfyUI at {double.url} is not reachable" in failure_message(result)
    rows = fetch(db_url, "SELECT status, clip_path, render_error FROM shots ORDER BY position")
    assert rows[0]["status"] == "failed" and "not reachable" in rows[0]["render_error"]
    assert rows[0]["clip_path"] is None and rows[1]["status"] == "planned"
    assert _clips_on_disk(studio_env) == []  # no clip, no last frame, no temporary file
