"""The one Dagster code location of Anime Studio."""

from studio.long_lived import long_lived_objects

# A code server loads this once and then evaluates sensors for as long as it runs: Dagster, pydantic
# and every definition made here (~145,000 objects) live as long as the process.
with long_lived_objects():
    import dagster as dg

    from anime_assets.characters import characters
    from anime_assets.datasets import approved_images, dataset_images
    from anime_assets.episode_plans import episode_plans
    from anime_assets.episodes import episodes, published_episodes
    from anime_assets.resources_by_backend import build_resources
    from anime_assets.scenes import scenes
    from anime_assets.scene_videos import scene_videos
    from anime_assets.shots import shot_clips, shot_keyframes
    from anime_assets.training import lora_checkpoints, training_dataset
    from jobs.catalog_jobs import characters_job, episode_plans_job, scenes_job
    from jobs.episode_jobs import episodes_job
    from jobs.dataset_jobs import dataset_batch_job
    from jobs.shot_jobs import shot_clips_job
    from jobs.training_jobs import training_job
    from sensors.approved_images_sensor import approved_images_sensor
    from sensors.dead_run_sensor import dead_run_sensor
    from sensors.episode_refresh_sensor import episode_refresh_sensor
    from sensors.partition_sync_sensor import partition_sync_sensor
    from sensors.replenishment_sensor import replenishment_sensor
    from sensors.training_sensor import training_sensor

    defs = dg.Definitions(
        assets=[characters, dataset_images, approved_images, scenes, episode_plans, training_dataset, lora_checkpoints,
                shot_keyframes, shot_clips, scene_videos, episodes, published_episodes],
        jobs=[characters_job, dataset_batch_job, scenes_job, episode_plans_job, training_job, shot_clips_job,
              episodes_job],
        sensors=[approved_images_sensor, partition_sync_sensor, replenishment_sensor, training_sensor, dead_run_sensor, episode_refresh_sensor],
        resources=build_resources(),
    )
