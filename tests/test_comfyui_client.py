"""The ComfyUI client against the double, over real HTTP and WebSocket on 127.0.0.1."""

import asyncio
import io
import threading
import time

import pytest
from PIL import Image

from comfy_graphs.params import Txt2ImgParams
from comfy_graphs.txt2img import build_txt2img_workflow
from resources.comfyui import ComfyUIResource
from resources.comfyui_protocol import ComfyExecutionError, ComfyValidationError
from tests.doubles.comfyui import ComfyUIDouble


def workflow(seed=1, **overrides):
    params = dict(checkpoint="tiny-random-sd15.safetensors", positive="a girl", negative="blurry", seed=seed,
                  steps=4, width=64, height=64, filename_prefix=f"tests/job{seed}")
    return build_txt2img_workflow(Txt2ImgParams(**{**params, **overrides}))


def client(*urls, **config):
    return ComfyUIResource(urls=list(urls), poll_interval_s=0.1, history_timeout_s=2, **config)


async def test_a_job_runs_and_its_image_downloads():
    with ComfyUIDouble(job_seconds=0.3) as comfy:
        comfy_client = client(comfy.url)
        run = await comfy_client.run(workflow())
        [output] = run.outputs
        assert (output.kind, output.subfolder) == ("images", "tests")
        picture = Image.open(io.BytesIO(await comfy_client.download(run, output)))
        assert picture.size == (64, 64)
        assert 0.25 <= run.gpu_seconds <= 1.0
        assert comfy.requests["POST /prompt"] == 1


async def test_a_dropped_socket_costs_latency_not_the_job():
    with ComfyUIDouble(job_seconds=0.1, drop_websocket=True) as comfy:
        run = await client(comfy.url).run(workflow())
        assert run.outputs and comfy.requests["GET /history/{prompt_id}"] >= 1


async def test_history_lagging_behind_completion_is_waited_for():
    with ComfyUIDouble(history_lag_s=0.3) as comfy:
        run = await client(comfy.url).run(workflow())
        assert run.outputs and run.attempts == 1


async def test_a_prompt_lost_in_a_restart_is_submitted_again():
    with ComfyUIDouble(job_seconds=1.0) as comfy:
        job = asyncio.create_task(client(comfy.url).run(workflow()))
        while not comfy.posted_prompts:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        await asyncio.to_thread(comfy.restart)
        run = await job
        assert run.attempts == 2 and run.outputs
        assert comfy.requests["POST /prompt"] == 2


async def test_validation_errors_name_node_input_and_reason_and_are_never_retried():
    with ComfyUIDouble() as comfy:
        with pytest.raises(ComfyValidationError) as err:
            await client(comfy.url).run(workflow(checkpoint="v1-5-pruned-emaonly.safetensors"))
        [problem] = err.value.problems
        assert (problem.node_id, problem.class_type, problem.input) == \
            ("checkpoint", "CheckpointLoaderSimple", "ckpt_name")
        assert "Value not in list" in problem.message
        assert comfy.requests["POST /prompt"] == 1


async def test_out_of_memory_is_retried_once_after_freeing_memory():
    with ComfyUIDouble() as comfy:
        comfy.fail_next("oom")
        run = await client(comfy.url).run(workflow())
        assert run.outputs and comfy.requests["POST /free"] == 1 and comfy.requests["POST /prompt"] == 2
        comfy.fail_next("oom")
        comfy.fail_next("oom")
        with pytest.raises(ComfyExecutionError, match="out of memory"):
            await client(comfy.url).run(workflow(seed=2))


async def test_a_runtime_error_is_reported_and_not_retried():
    with ComfyUIDouble() as comfy:
        comfy.fail_next("runtime")
        with pytest.raises(ComfyExecutionError) as err:
            await client(comfy.url).run(workflow())
        assert err.value.node_type == "KSampler" and "shapes" in err.value.message
        assert comfy.requests["POST /prompt"] == 1 and comfy.requests["POST /free"] == 0


async def test_uploads_keep_names_for_same_bytes_and_rename_different_bytes():
    with ComfyUIDouble() as comfy:
        comfy_client = client(comfy.url)
        assert await comfy_client.upload_image(b"one", "ref.png") == "ref.png"
        assert await comfy_client.upload_image(b"one", "ref.png") == "ref.png"
        run = await comfy_client.run(workflow(), images={"ref_abc.png": b"\x89PNG-bytes"})
        assert run.outputs and ("input", "", "ref_abc.png") in comfy.files


async def test_jobs_go_to_the_less_busy_server():
    with ComfyUIDouble(job_seconds=0.6) as busy, ComfyUIDouble(job_seconds=0.05) as idle:
        comfy_client = client(busy.url, idle.url)
        first = asyncio.create_task(comfy_client.run(workflow(seed=1)))
        await asyncio.sleep(0.1)
        second = await comfy_client.run(workflow(seed=2))
        assert second.server_url != (await first).server_url


async def test_concurrent_jobs_on_one_server_never_overlap():
    with ComfyUIDouble(job_seconds=0.2) as comfy:
        comfy_client = client(comfy.url)
        runs = await asyncio.gather(*(comfy_client.run(workflow(seed=s)) for s in range(4)))
        assert len({r.prompt_id for r in runs}) == 4
        spans = sorted((j.started, j.finished) for j in comfy.jobs)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
