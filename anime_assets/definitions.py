"""The one Dagster code location of Anime Studio."""

import dagster as dg

from anime_assets.characters import characters
from anime_assets.episodes import episodes
from anime_assets.scenes import scenes
from jobs.catalog_jobs import characters_job, episodes_job, scenes_job
from resources.database import StudioDatabase
from resources.studio_config import StudioConfig
from sensors.partition_sync_sensor import partition_sync_sensor


def build_resources() -> dict:
    """Resources for the backend chosen by STUDIO_BACKEND (preview on the CPU, or live services)."""
    return {
        "database": StudioDatabase(),
        "studio": StudioConfig.from_env(),
    }


defs = dg.Definitions(
    assets=[characters, scenes, episodes],
    jobs=[characters_job, scenes_job, episodes_job],
    sensors=[partition_sync_sensor],
    resources=build_resources(),
)
