"""A ComfyUI that is not there is "not reachable" at once: no "lost the prompt" resubmits, no backoff."""

from __future__ import annotations

import time

import pytest

from comfy_graphs.params import Txt2ImgParams
from comfy_graphs.txt2img import build_txt2img_workflow
from studio.clients.comfyui import ComfyUIClient
from studio.clients.comfyui_protocol import ComfyUnreachableError
from tests.service_processes import free_port


def _workflow() -> dict:
    return build_txt2img_workflow(Txt2ImgParams(checkpoint="sd15.safetensors", positive="a cat", negative="",
                                                seed=1, steps=2, width=64, height=64, filename_prefix="t/x"))


async def test_a_refused_connection_fails_fast_as_not_reachable(caplog):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    client = ComfyUIClient([url], poll_interval_s=5.0)
    started = time.monotonic()
    with pytest.raises(ComfyUnreachableError) as error:
        await client.run(_workflow(), images={"ref.png": b"\x89PNG"})
    assert time.monotonic() - started < 3
    assert f"ComfyUI at {url} is not reachable" in str(error.value) and "studio doctor" in str(error.value)
    assert error.value.permanent  # a batch stops at the first job
    assert "lost the prompt" not in caplog.text


async def test_without_uploads_too():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ComfyUnreachableError):
        await ComfyUIClient([url]).run(_workflow())
