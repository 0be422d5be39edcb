"""The ComfyUI client against the double, over real HTTP and WebSocket on 127.0.0.1.

The first tests pin the double to the captured fixtures, so what the client is tested against is
what a real ComfyUI 0.8 does.
"""

import asyncio
import io
import json
import logging

import httpx
import pytest
import websockets
from PIL import Image

from comfy_graphs.params import IPAdapterReference, Txt2ImgParams
from comfy_graphs.txt2img import build_txt2img_workflow
from studio.clients.comfyui import ComfyUIClient
from studio.clients.comfyui_protocol import ComfyExecutionError, ComfyTimeoutError, ComfyValidationError
from tests.conftest import FIXTURES
from tests.doubles.comfyui import ComfyUIDouble
from tests.doubles.comfyui_catalog import IPADAPTER_MODELS

COMFY_FIXTURES = FIXTURES / "comfyui"
pytestmark = pytest.mark.timeout(30)


def workflow(seed=1, **overrides):
    params = dict(checkpoint="tiny-random-sd15.safetensors", positive="a girl", negative="blurry", seed=seed,
                  steps=4, width=64, height=64, filename_prefix=f"tests/job{seed}")
    return build_txt2img_workflow(Txt2ImgParams(**{**params, **overrides}))


def video_workflow(frames=12):
    return {"1": {"class_type": "EmptyImage", "inputs": {"width": 128, "height": 96, "batch_size": frames,
                                                         "color": 3381759}},
            "2": {"class_type": "VHS_VideoCombine", "inputs": {
                "images": ["1", 0], "frame_rate": 30.0, "loop_count": 0, "filename_prefix": "research/clip",
                "format": "video/h264-mp4", "pingpong": False, "save_output": True}}}


def client(*urls, **config):
    return ComfyUIClient(urls=list(urls), **{"poll_interval_s": 0.1, "history_timeout_s": 1.0, **config})


def fixture_body(name):
    return json.loads((COMFY_FIXTURES / name).read_text().rsplit("HTTP", 1)[0])


def without_tracebacks(value):
    if isinstance(value, dict):
        return {k: without_tracebacks(v) for k, v in value.items() if k != "traceback"}
    return [without_tracebacks(v) for v in value] if isinstance(value, list) else value


# --- the double against the fixtures -------------------------------------------------------------
REFUSED = {
    "err_bad_values_missing_inputs.txt": {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 0, "height": "abc", "batch_size": 1}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}},
    "err_type_mismatch.txt": {
        "1": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}}},
    "err_bad_link.txt": {"2": {"class_type": "SaveImage", "inputs": {"images": ["9", 0], "filename_prefix": "x"}}},
    "err_no_outputs.txt": {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1,
                                                                        "color": 0}}},
}


def test_the_double_refuses_bad_prompts_with_the_real_400_bodies():
    with ComfyUIDouble(models={"checkpoints": []}) as comfy:
        for name, prompt in REFUSED.items():
            response = httpx.post(f"{comfy.url}/prompt", json={"prompt": prompt, "client_id": "c"})
            assert response.status_code == 400
            assert without_tracebacks(response.json()) == without_tracebacks(fixture_body(name)), name
        run3 = json.loads((COMFY_FIXTURES / "run3_missing_ckpt.post_prompt.json").read_text())
        assert httpx.post(f"{comfy.url}/prompt", json=run3["request"]).json() == run3["response"]
        unknown = httpx.post(f"{comfy.url}/prompt", json={"prompt": {"1": {"class_type": "Nope", "inputs": {}}}})
        assert unknown.json()["error"] == {**fixture_body("err_unknown_class_type.txt")["error"],
                                           "message": "Cannot execute because node Nope does not exist."}
        assert httpx.get(f"{comfy.url}/queue", headers={"Origin": "http://evil.example"}).status_code == 403


async def test_the_double_sends_run1s_messages_and_history():
    run1 = json.loads((COMFY_FIXTURES / "run1_empty_scale_save.post_prompt.json").read_text())
    expected = json.loads((COMFY_FIXTURES / "run1_empty_scale_save.ws_messages.json").read_text())
    [recorded] = json.loads((COMFY_FIXTURES / "run1_empty_scale_save.history.json").read_text()).values()
    with ComfyUIDouble() as comfy:
        async with websockets.connect(f"{comfy.url.replace('http', 'ws')}/ws?clientId=abc") as socket:
            async with httpx.AsyncClient(base_url=comfy.url) as http:
                prompt_id = (await http.post("/prompt", json={**run1["request"], "client_id": "abc"})).json()["prompt_id"]
                received = []
                while not received or received[-1]["type"] != "executing" or received[-1]["data"]["node"]:
                    received.append(json.loads(await socket.recv()))
                entry = (await http.get(f"/history/{prompt_id}")).json()[prompt_id]
    assert [m["type"] for m in received] == [m["type"] for m in expected]
    assert [sorted(m["data"]) for m in received] == [sorted(m["data"]) for m in expected]
    assert entry["outputs"] == recorded["outputs"] and sorted(entry) == sorted(recorded)
    assert [name for name, _ in entry["status"]["messages"]] == [n for n, _ in recorded["status"]["messages"]]


def test_the_double_names_uploads_like_comfyui():
    with ComfyUIDouble() as comfy:
        def upload(data, subfolder="research_refs", overwrite="false"):
            return httpx.post(f"{comfy.url}/upload/image", files={"image": ("ref.png", data)},
                              data={"subfolder": subfolder, "overwrite": overwrite})

        assert upload(b"one").json() == fixture_body("upload_1.txt")
        assert upload(b"one").json() == fixture_body("upload_2_same_content.txt")
        assert upload(b"two").json() == fixture_body("upload_3_diff_content_no_overwrite.txt")
        assert upload(b"two", overwrite="true").json()["name"] == "ref.png"
        assert upload(b"x", subfolder="../../etc").status_code == 400


# --- the client ---------------------------------------------------------------------------------
async def test_a_job_runs_its_images_download_and_progress_is_logged(caplog):
    caplog.set_level(logging.INFO)
    with ComfyUIDouble(job_seconds=0.3) as comfy:
        comfy_client = client(comfy.url)
        run = await comfy_client.run(workflow(batch_size=2), log=logging.getLogger("job"))
        assert [(o.kind, o.subfolder, o.type) for o in run.outputs] == [("images", "tests", "output")] * 2
        for output in run.outputs:
            picture = Image.open(io.BytesIO(await comfy_client.download(run, output)))
            assert picture.format == "PNG" and picture.size == (64, 64)
        assert 0.25 <= run.gpu_seconds <= 1.0 and run.attempts == 1
        assert comfy.requests["POST /prompt"] == 1 and comfy.requests["GET /history/{prompt_id}"] == 1
        assert "KSampler 4/4" in caplog.text
        assert (await comfy_client.system_stats())[comfy.url]["system"]["comfyui_version"] == "0.8.0"


async def test_a_dropped_socket_costs_latency_not_the_job():
    with ComfyUIDouble(job_seconds=0.1, drop_websocket=True) as comfy:
        run = await client(comfy.url).run(workflow())
        assert run.outputs and run.attempts == 1 and comfy.requests["GET /queue"] >= 1
        assert 0.05 <= run.gpu_seconds <= 1.0  # from history when the socket said nothing


@pytest.mark.parametrize("drop_websocket", [False, True])
async def test_history_lagging_behind_completion_is_waited_for(drop_websocket):
    with ComfyUIDouble(history_lag_s=0.3, drop_websocket=drop_websocket) as comfy:
        run = await client(comfy.url).run(workflow())
        assert run.outputs and run.attempts == 1 and comfy.requests["POST /prompt"] == 1


async def test_a_prompt_lost_in_a_restart_is_submitted_again():
    with ComfyUIDouble(job_seconds=1.0) as comfy:
        job = asyncio.create_task(client(comfy.url).run(workflow()))
        while not any(message["type"] == "progress" for _, message in list(comfy.sent)):
            await asyncio.sleep(0.02)
        await asyncio.to_thread(comfy.restart)
        run = await job
        assert run.attempts == 2 and run.outputs and comfy.requests["POST /prompt"] == 2
        assert [j.status for j in comfy.jobs] == ["killed", "success"]
        assert (comfy.output_dir / "tests" / run.outputs[0].filename).is_file()


async def test_validation_errors_name_node_input_and_reason_and_are_never_retried():
    with ComfyUIDouble() as comfy:
        with pytest.raises(ComfyValidationError) as err:
            await client(comfy.url).run(workflow(checkpoint="v1-5-pruned-emaonly.safetensors"))
        [problem] = err.value.problems
        assert (problem.node_id, problem.class_type, problem.input) == \
            ("checkpoint", "CheckpointLoaderSimple", "ckpt_name")
        assert "Value not in list" in problem.message and "v1-5-pruned-emaonly" in str(err.value)
        assert comfy.requests["POST /prompt"] == 1 and not comfy.jobs


async def test_out_of_memory_is_retried_once_after_freeing_memory():
    with ComfyUIDouble() as comfy:
        comfy.fail_next("oom")
        run = await client(comfy.url).run(workflow())
        assert run.outputs and run.attempts == 2
        assert comfy.free_requests == [{"unload_models": True, "free_memory": True}]
        assert comfy.requests["POST /prompt"] == 2
        comfy.fail_next("oom")
        comfy.fail_next("oom")
        with pytest.raises(ComfyExecutionError, match="out of memory") as err:
            await client(comfy.url).run(workflow(seed=2))
        assert err.value.out_of_memory and err.value.node_type == "KSampler"
        assert len(comfy.free_requests) == 2 and comfy.requests["POST /prompt"] == 4


async def test_a_runtime_error_is_reported_and_not_retried():
    with ComfyUIDouble() as comfy:
        comfy.fail_next("runtime")
        with pytest.raises(ComfyExecutionError) as err:
            await client(comfy.url).run(workflow())
        assert (err.value.node_id, err.value.node_type) == ("sampler", "KSampler")
        assert "shapes cannot be multiplied" in err.value.message and not err.value.out_of_memory
        assert comfy.requests["POST /prompt"] == 1 and comfy.requests["POST /free"] == 0


async def test_missing_ipadapter_models_fail_at_run_time_like_run13():
    reference = IPAdapterReference(images=["ref_abc.png"])
    with ComfyUIDouble(models={"ipadapter": [], "clip_vision": []}) as comfy:
        comfy_client = client(comfy.url)
        assert await comfy_client.models("clip_vision") == []
        with pytest.raises(ComfyExecutionError, match="ClipVision model not found"):
            await comfy_client.run(workflow(reference=reference), images={"ref_abc.png": b"\x89PNG ref"})
        assert (comfy.input_dir / "ref_abc.png").read_bytes() == b"\x89PNG ref"


async def test_images_are_uploaded_before_the_prompt_that_loads_them():
    reference = IPAdapterReference(images=["refs/ref_abc.png"])
    with ComfyUIDouble(models=IPADAPTER_MODELS) as comfy:
        comfy_client = client(comfy.url)
        with pytest.raises(ComfyValidationError, match="Invalid image file"):
            await comfy_client.run(workflow(reference=reference))
        run = await comfy_client.run(workflow(reference=reference), images={"refs/ref_abc.png": b"\x89PNG ref"})
        assert run.outputs and (comfy.input_dir / "refs" / "ref_abc.png").is_file()
        # overwrite=true: new bytes under the same name replace the old ones, never "name (1).png"
        assert await comfy_client.upload_image(b"other", "refs/ref_abc.png") == "refs/ref_abc.png"


async def test_videos_come_back_under_gifs():
    with ComfyUIDouble(render_video=lambda workflow, prompt_id, index: b"mp4 bytes") as comfy:
        comfy_client = client(comfy.url)
        run = await comfy_client.run(video_workflow())
        [video] = run.outputs
        assert (video.kind, video.filename, video.subfolder) == ("gifs", "clip_00001.mp4", "research")
        assert await comfy_client.download(run.server_url, video) == b"mp4 bytes"


async def test_an_unchanged_workflow_comes_back_from_the_cache_with_the_old_file():
    with ComfyUIDouble(job_seconds=0.2) as comfy:
        comfy_client = client(comfy.url)
        first, again = await comfy_client.run(workflow()), await comfy_client.run(workflow())
        assert again.outputs == first.outputs and "save" in again.cached_nodes and again.gpu_seconds < 0.1
        other = await comfy_client.run(workflow(seed=2, filename_prefix="tests/job1"))
        assert other.outputs[0].filename != first.outputs[0].filename
        assert set(other.cached_nodes) == {"checkpoint", "positive", "negative", "latent"}


async def test_jobs_go_to_the_less_busy_server():
    with ComfyUIDouble(job_seconds=0.6) as busy, ComfyUIDouble(job_seconds=0.05) as idle:
        comfy_client = client(busy.url, idle.url)
        first = asyncio.create_task(comfy_client.run(workflow(seed=1)))
        await asyncio.sleep(0.1)
        second = await comfy_client.run(workflow(seed=2))
        assert (await first).server_url == busy.url and second.server_url == idle.url
        # Started together, before either server shows them queued: this process's own count spreads them.
        runs = await asyncio.gather(*(comfy_client.run(workflow(seed=s)) for s in range(10, 14)))
        assert sorted(r.server_url for r in runs) == sorted([busy.url, idle.url] * 2)


async def test_concurrent_jobs_on_one_server_never_overlap():
    with ComfyUIDouble(job_seconds=0.15) as comfy:
        comfy_client = client(comfy.url)
        runs = await asyncio.gather(*(comfy_client.run(workflow(seed=s)) for s in range(5)))
        assert len({r.prompt_id for r in runs}) == 5 and len(comfy.jobs) == 5
        spans = sorted((j.started_at, j.finished_at) for j in comfy.jobs)
        assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))


async def test_stage_timeouts_clean_up_on_the_server():
    with ComfyUIDouble(job_seconds=2.0) as comfy:
        with pytest.raises(ComfyTimeoutError, match="run"):
            await client(comfy.url, run_timeout_s=0.3).run(workflow(steps=20))
        while not comfy.jobs:
            await asyncio.sleep(0.02)
        assert comfy.jobs[0].status == "interrupted"  # POST /interrupt freed the GPU
        blocker = asyncio.create_task(client(comfy.url).run(workflow(seed=5)))
        await asyncio.sleep(0.1)
        with pytest.raises(ComfyTimeoutError, match="queue wait"):
            await client(comfy.url, queue_timeout_s=0.3).run(workflow(seed=6))
        assert len(comfy.posted_prompts) == 3 and comfy.requests["POST /queue"] == 1
        blocker.cancel()
        await asyncio.gather(blocker, return_exceptions=True)


async def test_object_info_is_asked_once_per_server_until_asked_fresh():
    with ComfyUIDouble() as one, ComfyUIDouble() as two:
        comfy = client(one.url, two.url)
        first = await comfy.object_info()
        assert await comfy.object_info(one.url) is first
        assert "FramePackSampler" in await comfy.object_info(two.url)
        one.install("CheckpointLoaderSimple", "ckpt_name", "new.safetensors")
        fresh = await comfy.object_info(one.url, fresh=True)
        assert "new.safetensors" in fresh["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0]
        assert (one.requests["GET /object_info"], two.requests["GET /object_info"]) == (2, 1)
