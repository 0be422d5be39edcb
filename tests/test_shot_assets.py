"""shot_keyframes and shot_clips as Dagster assets: preview on the example project, live through the
ComfyUI double running the FramePack workflow (video back under `gifs`)."""

import asyncio

import dagster as dg

from anime_assets.shots import shot_clips, shot_keyframes
from resources.comfyui import ComfyUIResource
from resources.database import StudioDatabase
from resources.image_generation import PreviewImageGeneratorResource
from resources.image_review import PreviewImageReviewerResource
from resources.shot_rendering import FramePackShotRendererResource, PreviewShotRendererResource
from resources.studio_config import StudioConfig
from studio.cli import main as studio
from studio.db.pool import connect
from studio.media.clips import media_info
from tests.conftest import EXAMPLE_SPEC
from tests.doubles.comfyui import ComfyUIDouble
from tests.framepack_info import FRAMEPACK_MODEL, framepack_double
from tests.shot_scene import make_scene

POOLS = {"concurrency": {"pools": {"default_limit": 1}}}


def fetch(db_url, sql, *args):
    async def _go():
        async with connect(db_url) as conn:
            return [dict(r) for r in await conn.fetch(sql, *args)]

    return asyncio.run(_go())


def materialize(db_url, home, scene, renderer, *, raise_on_error=True):
    resources = {"database": StudioDatabase(url=db_url), "studio": StudioConfig(backend="preview", home=str(home)),
                 "shot_renderer": renderer, "image_generator": PreviewImageGeneratorResource(),
                 "image_reviewer": PreviewImageReviewerResource()}
    with dg.instance_for_test(overrides=POOLS) as instance:
        instance.add_dynamic_partitions("scene", [scene])
        return dg.materialize([shot_keyframes, shot_clips], partition_key=scene, instance=instance,
                              resources=resources, raise_on_error=raise_on_error)


def seed_scene(db_url, *, shots: int) -> list[str]:
    async def seed():
        async with connect(db_url) as conn:
            return await make_scene(conn, shots=shots, duration_s=1.2)

    return asyncio.run(seed())


def test_preview_renders_the_example_scene_and_a_second_run_keeps_every_clip(studio_env, db_url):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    renderer = PreviewShotRendererResource(keyframe_width=256, keyframe_height=144, fps=12)
    result = materialize(db_url, studio_env, "lamp-goes-out", renderer)
    assert result.success
    meta = result.asset_materializations_for_node("shot_clips")[0].metadata
    assert meta["backend"].value == "preview" and len(meta["rendered"].value) == 3
    rows = fetch(db_url, "SELECT clip_path, duration_s, status FROM shots ORDER BY position")
    media = studio_env / "media"
    for row in rows:
        assert row["status"] == "rendered"
        assert abs(media_info(media / row["clip_path"]).duration_s - row["duration_s"]) < 0.1
    again = materialize(db_url, studio_env, "lamp-goes-out", renderer)
    meta = again.asset_materializations_for_node("shot_clips")[0].metadata
    assert meta["rendered"].value == [] and len(meta["kept"].value) == 3


def live_renderer(double: ComfyUIDouble, *, keyframe_width: int, keyframe_height: int, use_f1: bool = False):
    return FramePackShotRendererResource(comfyui=ComfyUIResource(urls=[double.url], poll_interval_s=0.2),
                                         model=FRAMEPACK_MODEL, steps=4, keyframe_width=keyframe_width,
                                         keyframe_height=keyframe_height, use_f1=use_f1)


def test_live_renders_through_comfyui_with_the_framepack_workflow(studio_env, db_url):
    keys = seed_scene(db_url, shots=2)
    double = framepack_double()
    with double:
        renderer = live_renderer(double, keyframe_width=200, keyframe_height=120)
        result = materialize(db_url, studio_env, "harbour-night", renderer)
        assert result.success
        sent = (double.input_dir / double.posted_prompts[1]["prompt"]["start_image"]["inputs"]["image"]).read_bytes()
    rows = fetch(db_url, "SELECT shot_key, clip_path, last_frame_path, comfy_prompt_id, render_backend, "
                         "rendered_duration_s FROM shots ORDER BY position")
    assert [r["shot_key"] for r in rows] == keys
    assert all(r["render_backend"] == "comfyui" and r["comfy_prompt_id"] for r in rows)
    samplers = [p["prompt"]["sampler"]["inputs"] for p in double.posted_prompts]
    assert [s["total_second_length"] for s in samplers] == [1.2, 1.2]
    assert all(s["embed_interpolation"] == "disabled" for s in samplers)
    # Shot 2 was sent the exact last frame of shot 1's clip.
    media = studio_env / "media"
    assert sent == (media / rows[0]["last_frame_path"]).read_bytes()
    assert media_info(media / rows[1]["clip_path"]).video.width == 192  # the bucket of the 200 px keyframe


def test_a_shot_that_fails_in_comfyui_is_failed_and_the_next_run_renders_from_there(studio_env, db_url):
    keys = seed_scene(db_url, shots=3)
    double = framepack_double()
    with double:
        renderer = live_renderer(double, keyframe_width=160, keyframe_height=96)
        _fail_second_job(double)
        first = materialize(db_url, studio_env, "harbour-night", renderer, raise_on_error=False)
        assert not first.success
        rows = fetch(db_url, "SELECT status, render_error FROM shots ORDER BY position")
        assert [r["status"] for r in rows] == ["rendered", "failed", "planned"]
        assert "mat1 and mat2" in rows[1]["render_error"]
        again = materialize(db_url, studio_env, "harbour-night", renderer)
    meta = again.asset_materializations_for_node("shot_clips")[0].metadata
    assert meta["kept"].value == keys[:1] and meta["rendered"].value == keys[1:]


def _fail_second_job(double: ComfyUIDouble) -> None:
    """The second job that runs fails in its sampler (run4's execution_error); the first succeeds."""
    original, calls = double.take_failure, []

    def take_failure():
        calls.append(1)
        return "runtime" if len(calls) == 2 else original()

    double.take_failure = take_failure




def test_use_f1_renders_with_the_f1_sampler_the_server_offers(studio_env, db_url):
    seed_scene(db_url, shots=2)
    with framepack_double(with_f1=True) as double:
        renderer = live_renderer(double, keyframe_width=160, keyframe_height=96, use_f1=True)
        assert materialize(db_url, studio_env, "harbour-night", renderer).success
        object_info_asked = double.requests["GET /object_info"]
    samplers = [p["prompt"]["sampler"] for p in double.posted_prompts]
    assert [s["class_type"] for s in samplers] == ["FramePackSamplerF1"] * 2
    assert all("embed_interpolation" not in s["inputs"] for s in samplers)  # the fork's node does not declare it
    assert object_info_asked == 1  # once per client, not per shot
    assert [r["status"] for r in fetch(db_url, "SELECT status FROM shots ORDER BY position")] == ["rendered"] * 2


def test_use_f1_on_a_server_without_an_f1_sampler_fails_before_any_shot_saying_what_to_install(studio_env, db_url):
    seed_scene(db_url, shots=2)
    with framepack_double() as double:
        renderer = live_renderer(double, keyframe_width=160, keyframe_height=96, use_f1=True)
        result = materialize(db_url, studio_env, "harbour-night", renderer, raise_on_error=False)
        posted = list(double.posted_prompts)
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error.to_string()
    assert f"ComfyUI at {double.url} has no FramePack F1 sampler node" in error
    assert "Install a fork of the wrapper that adds one" in error and "STUDIO_FRAMEPACK_F1=false" in error
    assert posted == []
    assert [r["status"] for r in fetch(db_url, "SELECT status FROM shots ORDER BY position")] == ["planned"] * 2


def test_a_server_without_the_framepack_models_stops_the_scene_before_any_shot(studio_env, db_url):
    seed_scene(db_url, shots=2)
    with ComfyUIDouble() as double:  # the wrapper's nodes, none of its model files (the captured server)
        renderer = live_renderer(double, keyframe_width=160, keyframe_height=96)
        result = materialize(db_url, studio_env, "harbour-night", renderer, raise_on_error=False)
        posted = list(double.posted_prompts)
    assert not result.success and posted == []
    error = result.get_step_failure_events()[0].step_failure_data.error.to_string()
    assert (f"ComfyUI at {double.url} has no diffusion_models file '{FRAMEPACK_MODEL}': "
            "put it into ComfyUI/models/diffusion_models") in error
    assert "has no vae file 'hunyuan_video_vae_bf16.safetensors'" in error
    assert [r["status"] for r in fetch(db_url, "SELECT status FROM shots ORDER BY position")] == ["planned"] * 2
