"""`studio doctor` against the doubles, each part missing in turn, and the live batch's preflight."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import pytest

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
from tests.doubles.comfyui import ComfyUIDouble
from tests.doubles.comfyui_catalog import IPADAPTER_MODELS
from tests.doubles.echo import EchoDouble
from tests.doubles.ollama import OllamaDouble
from tests.service_processes import free_port
from tests.test_dataset_batch import fetch

CHECKPOINT = "animagine-xl-3.1.safetensors"  # the example spec's style


@pytest.fixture
def box(studio_env, db_url, monkeypatch):
    """A GPU box with everything installed, the example project imported; tests take parts away."""
    with ThreadPoolExecutor(1) as thread:  # the CLI runs its own event loop; async tests already have one
        assert thread.submit(studio, ["import", str(EXAMPLE_SPEC)]).result() == 0
    fetch(db_url, "UPDATE characters SET reference_images = '[\"refs/mika_front.png\"]' WHERE slug = 'mika' RETURNING id")
    with ComfyUIDouble(models=IPADAPTER_MODELS) as comfy, OllamaDouble() as ollama, EchoDouble() as echo:
        comfy.install("CheckpointLoaderSimple", "ckpt_name", CHECKPOINT)
        monkeypatch.setenv("STUDIO_BACKEND", "live")
        monkeypatch.setenv("STUDIO_COMFYUI_URLS", comfy.url)
        monkeypatch.setenv("STUDIO_OLLAMA_URL", ollama.url)
        monkeypatch.setenv("STUDIO_ECHO_URL", echo.url)
        yield comfy, ollama, echo


async def failures() -> list[str]:
    return [line.text for line in await doctor_lines(load_settings()) if not line.ok]


async def test_everything_installed_passes(box, capsys):
    assert await failures() == []
    assert await asyncio_doctor() == 0
    assert "everything a run needs is there" in capsys.readouterr().out


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
