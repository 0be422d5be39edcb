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
from tests.framepack_info import FRAMEPACK_MODEL, framepack_video, installed_models
from tests.shot_scene import make_scene

POOLS = {"concurrency": {"pools": {"default_limit": 1}}}


def fetch(db_url, sql, *args):
    async def _go():
        async with connect(db_url) as conn:
            return [dict(r) for r in await conn.fetch(sql, *args)]

    return asyncio.run(_go())


def materialize(db_url, home, scene, renderer):
    resources = {"database": StudioDatabase(url=db_url), "studio": StudioConfig(backend="preview", home=str(home)),
                 "shot_renderer": renderer, "image_generator": PreviewImageGeneratorResource(),
                 "image_reviewer": PreviewImageReviewerResource()}
    with dg.instance_for_test(overrides=POOLS) as instance:
        instance.add_dynamic_partitions("scene", [scene])
        return dg.materialize([shot_keyframes, shot_clips], partition_key=scene, instance=instance,
                              resources=resources)


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


def framepack_double() -> ComfyUIDouble:
    """A ComfyUI double with the FramePack models installed, answering FramePack prompts with a real mp4."""
    double = ComfyUIDouble()
    double.render_video = framepack_video(double)
    for class_type, input_name, name in installed_models():
        double.install(class_type, input_name, name)
    return double


def live_renderer(double: ComfyUIDouble, *, keyframe_width: int, keyframe_height: int):
    return FramePackShotRendererResource(comfyui=ComfyUIResource(urls=[double.url], poll_interval_s=0.2),
                                         model=FRAMEPACK_MODEL, steps=4, keyframe_width=keyframe_width,
                                         keyframe_height=keyframe_height)


def test_live_renders_through_comfyui_with_the_framepack_workflow(studio_env, db_url):
    async def seed():
        async with connect(db_url) as conn:
            return await make_scene(conn, shots=2, duration_s=1.2)

    keys = asyncio.run(seed())
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
    async def seed():
        async with connect(db_url) as conn:
            return await make_scene(conn, shots=3, duration_s=1.2)

    keys = asyncio.run(seed())
    double = framepack_double()
    with double:
        renderer = live_renderer(double, keyframe_width=160, keyframe_height=96)
        _fail_second_job(double)
        first = materialize_quietly(db_url, studio_env, renderer)
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


def materialize_quietly(db_url, home, renderer):
    resources = {"database": StudioDatabase(url=db_url), "studio": StudioConfig(backend="preview", home=str(home)),
                 "shot_renderer": renderer, "image_generator": PreviewImageGeneratorResource(),
                 "image_reviewer": PreviewImageReviewerResource()}
    with dg.instance_for_test(overrides=POOLS) as instance:
        instance.add_dynamic_partitions("scene", ["harbour-night"])
        return dg.materialize([shot_keyframes, shot_clips], partition_key="harbour-night", instance=instance,
                              resources=resources, raise_on_error=False)
