"""`episodes` and `published_episodes` on a real Dagster instance, and the re-assembly sensor."""

import dagster as dg

from anime_assets.definitions import defs
from resources.database import StudioDatabase
from resources.jellyfin import JellyfinResource
from resources.studio_config import StudioConfig
from studio.cli import main as studio
from tests.conftest import EXAMPLE_SPEC
from tests.doubles.jellyfin import JellyfinDouble
from tests.episode_media import make_delivered_clip

EPISODE, SCENE = "lantern-harbor-e01", "lamp-goes-out"


def report_scene_video(instance, media, version, frequency=440):
    clip = make_delivered_clip(media / "scenes" / SCENE / f"{version}.mp4", duration_s=3.5, frequency=frequency)
    clip.with_suffix(".srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nHello\n", encoding="utf-8")
    instance.report_runless_asset_event(dg.AssetMaterialization(
        "scene_videos", partition=SCENE, tags={"dagster/data_version": version},
        metadata={"path": str(clip.relative_to(media)), "subtitles": str(clip.with_suffix(".srt").relative_to(media))}))


def test_assemble_and_publish_through_dagster_and_the_refresh_sensor(studio_env, db_url, tmp_path, monkeypatch):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    media = studio_env / "media"
    monkeypatch.setenv("STUDIO_JELLYFIN_TOKEN", "s3cret")
    with JellyfinDouble(token="s3cret") as jellyfin, dg.instance_for_test() as instance:
        resources = {**defs.resources, "database": StudioDatabase(url=db_url),
                     "studio": StudioConfig(home=str(studio_env)),
                     "jellyfin": JellyfinResource(library_root=str(tmp_path / "library"), url=jellyfin.url)}
        test_defs = dg.Definitions(assets=defs.assets, jobs=defs.jobs, sensors=defs.sensors, resources=resources)
        instance.add_dynamic_partitions("episode", [EPISODE])
        instance.add_dynamic_partitions("scene", [SCENE])
        report_scene_video(instance, media, "v1")

        job = test_defs.resolve_job_def("episodes_job")
        result = job.execute_in_process(partition_key=EPISODE, instance=instance)
        assert result.success
        [video] = result.asset_materializations_for_node("episodes")
        meta = video.metadata
        assert meta["duration_s"].value == 3.5 and meta["stream_copy"].value is True
        # delivered at -16 LUFS, as scene_videos makes them: the sound is copied, not read again
        assert meta["normalization_type"].value == "already_at_target"
        assert meta["loudness_source"].value == "scene tags"
        assert meta["thumbnail"].value.startswith("![thumbnail](data:image/jpeg;base64,")
        assert meta["scenes"].value[0]["data_version"] == "v1"
        [published] = result.asset_materializations_for_node("published_episodes")
        assert published.metadata["announce_error"].value == ""
        assert len(jellyfin.announcements) == 1 and jellyfin.auth_headers == ['MediaBrowser Token="s3cret"']
        # The token never reaches resource config, metadata or logs.
        logs = " ".join(str(e.message) for e in instance.all_logs(result.run_id))
        assert "s3cret" not in logs and "s3cret" not in str(published.metadata)

        sensor = test_defs.resolve_sensor_def("episode_refresh_sensor")
        assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
        with dg.build_sensor_context(instance=instance, resources=resources) as context:
            assert isinstance(sensor(context), dg.SkipReason)  # the first tick only starts watching
            cursor = context.cursor
        report_scene_video(instance, media, "v2", frequency=880)
        with dg.build_sensor_context(instance=instance, resources=resources, cursor=cursor) as context:
            [request] = sensor(context)
            cursor = context.cursor
        assert request.partition_key == EPISODE and request.job_name in (None, "episodes_job")
        with dg.build_sensor_context(instance=instance, resources=resources, cursor=cursor) as context:
            assert isinstance(sensor(context), dg.SkipReason)  # nothing new since

        again = job.execute_in_process(partition_key=EPISODE, instance=instance, tags=request.tags)
        assert again.success
        assert again.asset_materializations_for_node("episodes")[0].metadata["scenes"].value[0]["data_version"] == "v2"
        assert len(jellyfin.announcements) == 2  # the file changed: announced again


def test_a_scene_without_video_fails_the_run_with_its_name(studio_env, db_url):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    with dg.instance_for_test() as instance:
        resources = {**defs.resources, "database": StudioDatabase(url=db_url),
                     "studio": StudioConfig(home=str(studio_env))}
        instance.add_dynamic_partitions("episode", [EPISODE])
        job = dg.Definitions(assets=defs.assets, jobs=defs.jobs, resources=resources).resolve_job_def("episodes_job")
        result = job.execute_in_process(partition_key=EPISODE, instance=instance, raise_on_error=False)
        assert not result.success
        failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
        assert "scenes[0] (lamp-goes-out): no scene video yet" in str(failure.event_specific_data.error.message)
