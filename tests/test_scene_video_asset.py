"""The scene_videos asset on a real Dagster instance, after the preview shot_clips of the example scene."""

import asyncio

import dagster as dg

from anime_assets.scene_videos import scene_videos
from anime_assets.shots import shot_clips, shot_keyframes
from resources.database import StudioDatabase
from resources.image_generation import PreviewImageGeneratorResource
from resources.image_review import PreviewImageReviewerResource
from resources.scene_sound import SceneSoundResource
from resources.shot_rendering import PreviewShotRendererResource
from resources.studio_config import StudioConfig
from studio.cli import main as studio
from studio.db.pool import connect
from studio.media.ffmpeg import media_info
from tests.conftest import EXAMPLE_SPEC
from tests.doubles.tts import TtsDouble

POOLS = {"concurrency": {"pools": {"default_limit": 1}}}
SCENE = "lamp-goes-out"


def run_sql(db_url, sql, *args):
    async def _go():
        async with connect(db_url) as conn:
            return [dict(r) for r in await conn.fetch(sql, *args)]

    return asyncio.run(_go())


def materialize(instance, assets, db_url, home, sound=None):
    resources = {"database": StudioDatabase(url=db_url), "studio": StudioConfig(backend="preview", home=str(home)),
                 "shot_renderer": PreviewShotRendererResource(keyframe_width=256, keyframe_height=144, fps=12),
                 "image_generator": PreviewImageGeneratorResource(), "image_reviewer": PreviewImageReviewerResource(),
                 "scene_sound": sound or SceneSoundResource()}
    result = dg.materialize(assets, partition_key=SCENE, instance=instance, resources=resources)
    return result.asset_materializations_for_node(assets[-1].key.path[-1])[0].metadata


def test_scene_videos_mixes_again_without_rendering_and_survives_a_dead_tts(studio_env, db_url):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    with dg.instance_for_test(overrides=POOLS) as instance:
        instance.add_dynamic_partitions("scene", [SCENE])
        materialize(instance, [shot_keyframes, shot_clips], db_url, studio_env)
        shots = run_sql(db_url, "SELECT id, clip_path, rendered_at, updated_at FROM shots ORDER BY id")

        meta = materialize(instance, [scene_videos], db_url, studio_env)
        assert meta["audio_state"].value == "complete" and meta["tts_engine"].value == "piper"
        assert meta["lines_synthesised"].value == 3 and meta["audio_retry"].value is False
        assert meta["av_difference_s"].value <= 1 / 12
        video = studio_env / "media" / meta["path"].value
        assert media_info(video).subtitle_streams == 1 and meta["subtitles"].value.endswith(".srt")
        assert meta["integrated_lufs"].value < 0

        run_sql(db_url, """UPDATE shots SET dialogue = '[{"character": "mika", "line": "Not tonight, please."}]'
                            WHERE position = 2""")
        meta = materialize(instance, [scene_videos], db_url, studio_env)
        assert meta["lines_synthesised"].value == 1
        assert run_sql(db_url, "SELECT id, clip_path, rendered_at, updated_at FROM shots ORDER BY id")[0] == shots[0]

        with TtsDouble() as tts:
            tts.down = True
            meta = materialize(instance, [scene_videos], db_url, studio_env, SceneSoundResource(tts_url=tts.url))
        assert meta["audio_state"].value == "partial" and meta["audio_retry"].value is True
        assert "503" in meta["audio_problems"].value[0]
        assert media_info(video).video is not None and meta["duration_s"].value > 0
