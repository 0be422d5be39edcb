"""The FramePack image-to-video workflow against object_info captured from a real ComfyUI with the wrapper."""

import json

import pytest
from pydantic import ValidationError

from comfy_graphs.framepack import FramePackParams, FramePackUnavailable, build_framepack_workflow, f1_sampler_node
from comfy_graphs.validate import validate_workflow
from tests.framepack_info import BASE_OBJECT_INFO, FRAMEPACK_MODEL, framepack_object_info


def params(**overrides) -> FramePackParams:
    base = dict(model=FRAMEPACK_MODEL, start_image="shot_start.png", motion_prompt="she turns to the sea",
                seed=42, steps=25, duration_s=3.0, filename_prefix="anime_studio/lamp/s1")
    return FramePackParams(**{**base, **overrides})


def test_workflow_validates_against_the_wrapper_with_its_models_installed():
    assert validate_workflow(build_framepack_workflow(params()), framepack_object_info()) == []


def test_on_the_captured_server_only_the_missing_model_files_are_reported():
    # The captured server had the wrapper's nodes but no model files: a preflight names each one.
    errors = validate_workflow(build_framepack_workflow(params()), BASE_OBJECT_INFO)
    assert {(e.node_id, e.input) for e in errors} == {
        ("model", "model"), ("text_encoders", "clip_name1"), ("text_encoders", "clip_name2"),
        ("clip_vision", "clip_name"), ("vae", "vae_name")}
    assert all("not in list" in e.message for e in errors)


def test_start_frame_is_vae_and_clip_vision_encoded_and_sent_explicitly():
    workflow = build_framepack_workflow(params())
    sampler = workflow["sampler"]["inputs"]
    assert "start_image" not in sampler
    assert sampler["start_latent"] == ["start_latent", 0] and sampler["image_embeds"] == ["start_embeds", 0]
    assert workflow["start_latent"] == {"class_type": "VAEEncode",
                                        "inputs": {"pixels": ["start_frame", 0], "vae": ["vae", 0]}}
    assert workflow["start_embeds"]["inputs"]["image"] == ["start_frame", 0]
    assert workflow["start_frame"]["inputs"]["width"] == ["bucket", 0]
    assert workflow["start_frame"]["inputs"]["height"] == ["bucket", 1]
    assert workflow["start_image"]["inputs"]["image"] == "shot_start.png"
    # Sent although they have defaults: load_device's default is not an option, embed_interpolation's differ.
    assert workflow["model"]["inputs"]["load_device"] == "main_device"
    assert sampler["embed_interpolation"] == "disabled"
    assert (sampler["seed"], sampler["steps"], sampler["cfg"], sampler["gpu_memory_preservation"]) == (42, 25, 1.0, 6.0)
    assert sampler["positive"] == ["positive", 0]
    assert workflow["positive"]["inputs"]["text"] == "she turns to the sea"


def test_video_comes_out_as_h264_mp4_at_30_fps():
    video = build_framepack_workflow(params())["video"]
    assert video["class_type"] == "VHS_VideoCombine"
    assert (video["inputs"]["format"], video["inputs"]["frame_rate"]) == ("video/h264-mp4", 30.0)
    assert video["inputs"]["filename_prefix"] == "anime_studio/lamp/s1"


@pytest.mark.parametrize("duration,window,sections,seconds", [
    (3.0, 9, 2, 2.4), (3.7, 9, 3, 3.6), (0.3, 9, 1, 1.2), (4.0, 5, 6, 4.0),
])
def test_duration_is_whole_sections_of_the_latent_window(duration, window, sections, seconds):
    p = params(duration_s=duration, latent_window_size=window)
    assert (p.sections, p.rendered_seconds) == (sections, seconds)
    assert build_framepack_workflow(p)["sampler"]["inputs"]["total_second_length"] == round(seconds, 1)


def test_f1_is_refused_when_the_server_has_no_f1_sampler():
    assert f1_sampler_node(BASE_OBJECT_INFO) is None
    with pytest.raises(FramePackUnavailable, match="no FramePack F1 sampler node"):
        build_framepack_workflow(params(use_f1=True), BASE_OBJECT_INFO)
    with pytest.raises(FramePackUnavailable):
        build_framepack_workflow(params(use_f1=True))


def test_f1_uses_the_servers_f1_node_with_only_the_inputs_it_declares():
    info = framepack_object_info(with_f1=True)
    workflow = build_framepack_workflow(params(use_f1=True), info)
    assert workflow["sampler"]["class_type"] == "FramePackSamplerF1"
    assert "embed_interpolation" not in workflow["sampler"]["inputs"]
    assert validate_workflow(workflow, info) == []


def test_bad_parameters_name_the_field():
    with pytest.raises(ValidationError, match="latent_window_size"):
        params(latent_window_size=40)
    with pytest.raises(ValidationError, match="load_device"):
        params(load_device="cuda")


def test_builder_is_deterministic():
    assert json.dumps(build_framepack_workflow(params())) == json.dumps(build_framepack_workflow(params()))
