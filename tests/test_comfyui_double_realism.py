"""The ComfyUI double does what the real server does where it is inconvenient: a fresh box has no
IP-Adapter files, and SaveImage embeds the prompt in each PNG (same pixels, different sha256)."""

from __future__ import annotations

import hashlib
import io
import json

from PIL import Image

from comfy_graphs.params import Txt2ImgParams
from comfy_graphs.txt2img import build_txt2img_workflow
from studio.clients.comfyui import ComfyUIClient
from tests.doubles.comfyui import ComfyUIDouble


def _workflow(prefix: str) -> dict:
    return build_txt2img_workflow(Txt2ImgParams(checkpoint="tiny-random-sd15.safetensors", positive="a cat",
                                                seed=7, steps=2, width=64, height=64, filename_prefix=prefix))


async def test_saved_pngs_carry_the_prompt_so_regenerated_pixels_differ_in_sha256():
    with ComfyUIDouble() as comfy:
        client = ComfyUIClient([comfy.url])
        first_run = await client.run(_workflow("mika/run_a_0"))
        second_run = await client.run(_workflow("mika/run_b_0"))  # same seed, another run id in the prefix
        first = await client.download(first_run, first_run.outputs[0])
        second = await client.download(second_run, second_run.outputs[0])
    a, b = Image.open(io.BytesIO(first)), Image.open(io.BytesIO(second))
    assert json.loads(a.text["prompt"]) == _workflow("mika/run_a_0")
    assert a.tobytes() == b.tobytes()
    assert hashlib.sha256(first).digest() != hashlib.sha256(second).digest()


async def test_a_fresh_double_has_no_ipadapter_or_clip_vision_files():
    with ComfyUIDouble() as comfy:
        client = ComfyUIClient([comfy.url])
        assert await client.models("ipadapter") == [] and await client.models("clip_vision") == []
        assert await client.models("checkpoints")
