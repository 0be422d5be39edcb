"""One FramePack renderer from the settings for the shot_clips asset, the review service's render status
and `studio doctor`: the same parameters, so the same render inputs and the same files checked."""

from __future__ import annotations

import pytest

from api.routers.shots import _renderer as review_renderer
from resources.shot_rendering import shot_resources
from studio.clients.comfyui import ComfyUIClient
from studio.doctor.checks import check_framepack
from studio.domain.comfy_setup import ServerSetup
from studio.domain.shot_rendering import ShotToRender
from studio.settings import load_settings
from studio.shots.factory import framepack_renderer
from tests.framepack_info import FRAMEPACK_MODEL, framepack_object_info

SHOT = ShotToRender("s1", "medium", "lantern sways", 7, 2.5)
URL = "http://127.0.0.1:1"  # never asked: the doctor's check judges the setup it is given


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path))
    return load_settings().with_values(backend="live", comfyui_urls=(URL,), framepack_model=FRAMEPACK_MODEL,
                                       framepack_steps=7, framepack_teacache=True, framepack_f1=False)


def test_the_asset_and_the_review_service_render_with_what_the_settings_say(settings):
    asset = shot_resources("live", settings)["shot_renderer"].get_client()
    review = review_renderer(settings)
    built = framepack_renderer(settings, None)
    params = built.check_params()
    assert (params.model, params.steps, params.use_teacache, params.use_f1) == (FRAMEPACK_MODEL, 7, True, False)
    for renderer in (asset, review):
        assert renderer.check_params() == params
        assert renderer.render_inputs(SHOT, "anchor") == built.render_inputs(SHOT, "anchor")


def test_on_preview_the_review_service_hashes_a_shot_as_the_asset_renders_it(settings):
    preview = settings.with_values(backend="preview")
    asset = shot_resources("preview", preview)["shot_renderer"].get_client()
    assert review_renderer(preview).render_inputs(SHOT, "anchor") == asset.render_inputs(SHOT, "anchor")


def test_the_doctor_checks_the_files_and_the_sampler_the_settings_ask_for(settings):
    client = ComfyUIClient([URL])
    setups = {URL: ServerSetup(framepack_object_info(), {})}
    [line] = check_framepack(settings, client, setups)
    assert line.ok and f"({FRAMEPACK_MODEL})" in line.text
    lines = check_framepack(settings.with_values(framepack_f1=True), client, setups)
    assert any(not line.ok and "F1 sampler" in line.text for line in lines)
    lines = check_framepack(settings.with_values(framepack_model="other.safetensors"), client, setups)
    assert any(not line.ok and "other.safetensors" in line.text for line in lines)
