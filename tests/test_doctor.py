"""`studio doctor` against the doubles, each part missing in turn, and the live batch's preflight.
The GPU pool's lines read a real Dagster instance (tests/test_doctor_pool.py)."""

from __future__ import annotations

import asyncio
import time

import dagster as dg

from anime_assets.datasets import dataset_images
from resources.comfyui import ComfyUIResource
from resources.database import StudioDatabase
from resources.image_generation import ComfyImageGeneratorResource
from resources.image_review import VisionImageReviewerResource
from resources.ollama import OllamaResource
from resources.studio_config import StudioConfig
from studio.cli import main as studio
from studio.doctor.report import doctor_lines
from studio.settings import load_settings
from tests.conftest import EXAMPLE_SPEC
from tests.doctor_box import (CHECKPOINT, box, failures, install_character_models,  # noqa: F401 (fixtures)
                              one_gpu_instance)
from tests.doubles.comfyui import ComfyUIDouble
from tests.doubles.comfyui_catalog import IPADAPTER_MODELS
from tests.framepack_info import FRAMEPACK_MODEL, f1_sampler
from tests.service_processes import free_port
from tests.test_dataset_batch import fetch


async def test_everything_installed_passes(box, capsys):
    comfy, _, _ = box
    assert await failures() == []
    assert await asyncio_doctor() == 0
    out = capsys.readouterr().out
    assert "everything a run needs is there" in out
    assert f"ok   framepack: {comfy.url}: the nodes and model files of shots are installed ({FRAMEPACK_MODEL})" in out
    assert "ok   dagster: the gpu pool limit is 1, one slot per ComfyUI server" in out


async def asyncio_doctor() -> int:
    from studio.doctor.report import run_doctor

    return await run_doctor(load_settings())


async def test_comfyui_not_running(box, monkeypatch):
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("STUDIO_COMFYUI_URLS", url)
    [line] = await failures()
    assert line.startswith(f"ComfyUI at {url} is not reachable") and "STUDIO_COMFYUI_URLS" in line


async def test_custom_node_pack_missing(box):
    comfy, _, _ = box
    for node in ("IPAdapterUnifiedLoader", "IPAdapterAdvanced"):
        del comfy.object_info[node]
    lines = await failures()
    assert f"ComfyUI at {comfy.url} has no node IPAdapterUnifiedLoader: install the custom node pack " \
           "ComfyUI_IPAdapter_plus (cubiq) into ComfyUI/custom_nodes and restart ComfyUI" in lines


async def test_style_checkpoint_missing(box):
    comfy, _, _ = box
    comfy.catalog.models["checkpoints"].remove(CHECKPOINT)
    comfy.install_model("checkpoints", "tiny-random-sd15.safetensors")  # refreshes the loader's list
    lines = await failures()
    assert lines == [f"ComfyUI at {comfy.url} has no checkpoints file '{CHECKPOINT}': put it into "
                     "ComfyUI/models/checkpoints (or change the style in the project spec)"]


async def test_style_lora_missing(box, db_url):
    comfy, _, _ = box
    await asyncio.to_thread(fetch, db_url, "UPDATE generation_styles SET lora_name = 'harbor_style.safetensors' RETURNING id")
    assert f"ComfyUI at {comfy.url} has no loras file 'harbor_style.safetensors': put it into " \
           "ComfyUI/models/loras (or change the style in the project spec)" in await failures()


async def test_clip_vision_files_missing_for_a_character_with_references(box):
    comfy, _, _ = box
    comfy.catalog.models["clip_vision"].clear()
    [line] = await failures()
    assert line.startswith(f"ComfyUI at {comfy.url} has no file in models/clip_vision")
    assert "CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors into ComfyUI/models/clip_vision" in line


async def test_ipadapter_files_missing_for_a_character_with_references(box):
    comfy, _, _ = box
    comfy.catalog.models["ipadapter"].clear()
    [line] = await failures()
    assert "has no file in models/ipadapter" in line and "ip-adapter-plus_sd15.safetensors" in line


async def test_a_server_without_the_framepack_wrapper_is_named_before_any_scene(box):
    comfy, _, _ = box
    for node in ("LoadFramePackModel", "FramePackFindNearestBucket", "FramePackSampler"):
        del comfy.object_info[node]  # what a ComfyUI without ComfyUI-FramePackWrapper answers
    assert f"ComfyUI at {comfy.url} has no node LoadFramePackModel: install the custom node pack " \
           "ComfyUI-FramePackWrapper (kijai) into ComfyUI/custom_nodes and restart ComfyUI" in await failures()


async def test_use_f1_on_a_server_without_an_f1_sampler_names_the_fork_to_install(box, monkeypatch):
    comfy, _, _ = box
    monkeypatch.setenv("STUDIO_FRAMEPACK_F1", "true")
    [line] = await failures()
    assert line.startswith(f"ComfyUI at {comfy.url} has no FramePack F1 sampler node, which STUDIO_FRAMEPACK_F1=true "
                           "needs")
    assert "Install a fork of the wrapper that adds one" in line and "STUDIO_FRAMEPACK_F1=false" in line


async def test_use_f1_with_the_forks_sampler_passes_and_names_it(box, monkeypatch):
    comfy, _, _ = box
    name, node = f1_sampler(comfy.object_info)
    comfy.object_info[name] = node
    monkeypatch.setenv("STUDIO_FRAMEPACK_F1", "true")
    lines = [str(line) for line in await doctor_lines(load_settings())]
    assert f"ok   framepack: {comfy.url}: the nodes and model files of shots are installed ({FRAMEPACK_MODEL}, " \
           "F1 sampler FramePackSamplerF1)" in lines


async def test_a_framepack_model_the_server_lacks_names_the_folder_and_the_setting(box, monkeypatch):
    comfy, _, _ = box
    monkeypatch.setenv("STUDIO_FRAMEPACK_MODEL", "FramePack_F1_I2V_HY_20250503.safetensors")
    assert await failures() == [
        f"ComfyUI at {comfy.url} has no diffusion_models file 'FramePack_F1_I2V_HY_20250503.safetensors': put it into "
        "ComfyUI/models/diffusion_models (or set STUDIO_FRAMEPACK_MODEL to a FramePack model the server has)"]


async def test_each_server_is_checked_for_framepack_and_only_the_one_lacking_files_is_named(box, monkeypatch):
    comfy, _, _ = box
    with ComfyUIDouble(models=IPADAPTER_MODELS) as bare:  # the captured server: the wrapper, none of its files
        install_character_models(bare)
        monkeypatch.setenv("STUDIO_COMFYUI_URLS", f"{comfy.url},{bare.url}")
        lines = await failures()
    framepack = [line for line in lines if "FramePack" in line or "text_encoders" in line or "vae" in line]
    assert framepack and all(line.startswith(f"ComfyUI at {bare.url} has no ") for line in framepack)
    assert f"ComfyUI at {bare.url} has no text_encoders file 'llava_llama3_fp16.safetensors': put it into " \
           "ComfyUI/models/text_encoders" in lines
    assert f"ComfyUI at {bare.url} has no vae file 'hunyuan_video_vae_bf16.safetensors': put it into " \
           "ComfyUI/models/vae" in lines


async def test_ollama_not_running(box, monkeypatch):
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("STUDIO_OLLAMA_URL", url)
    [line] = await failures()
    assert line.startswith(f"Ollama at {url} is not reachable") and "ollama serve" in line


async def test_vision_model_not_pulled(box):
    _, ollama, _ = box
    ollama.models = ("qwen2.5:7b",)
    assert await failures() == ["model qwen2.5vl:7b for vision review (STUDIO_VISION_MODEL) is not pulled: "
                                "run `ollama pull qwen2.5vl:7b` on the GPU box"]


async def test_echo_configured_but_not_running(box, monkeypatch):
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("STUDIO_ECHO_URL", url)
    [line] = await failures()
    assert line.startswith(f"Echo at {url} is not reachable") and "unset STUDIO_ECHO_URL" in line


def test_the_command_exits_1_and_prints_the_fix(box, monkeypatch, capsys):
    monkeypatch.setenv("STUDIO_COMFYUI_URLS", f"http://127.0.0.1:{free_port()}")
    assert studio(["doctor"]) == 1
    out = capsys.readouterr()
    assert "FAIL comfyui: ComfyUI at" in out.out and "1 problem(s) found" in out.out
    assert "studio home:" in out.err


def test_a_live_batch_with_comfyui_absent_fails_within_seconds_with_the_doctors_message(studio_env, db_url):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    url = f"http://127.0.0.1:{free_port()}"
    resources = {
        "database": StudioDatabase(url=db_url),
        "studio": StudioConfig(backend="live", home=str(studio_env)),
        "image_generator": ComfyImageGeneratorResource(comfyui=ComfyUIResource(urls=[url])),
        "image_reviewer": VisionImageReviewerResource(ollama=OllamaResource(url=f"http://127.0.0.1:{free_port()}")),
    }
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("character", ["mika"])
        started = time.monotonic()
        result = dg.materialize([dataset_images], partition_key="mika", instance=instance, resources=resources,
                                run_config={"ops": {"dataset_images": {"config": {"count": 4}}}},
                                raise_on_error=False)
        elapsed = time.monotonic() - started
    assert not result.success and elapsed < 10
    message = result.get_step_failure_events()[0].event_specific_data.error.cause.message
    assert f"ComfyUI at {url} is not reachable" in message and "studio doctor" in message
    assert fetch(db_url, "SELECT count(*) AS n FROM images")[0]["n"] == 0
