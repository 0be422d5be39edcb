"""The `episode_plans` asset: one partition per episode, with its ordered scenes and transitions."""

import dagster as dg

from anime_assets.partitions import episode_partitions
from resources.database import StudioDatabase
from studio.db import catalog


@dg.asset(partitions_def=episode_partitions, group_name="episodes", kinds={"postgres"})
async def episode_plans(context: dg.AssetExecutionContext, database: StudioDatabase) -> dg.MaterializeResult:
    """The episode's running order, as the studio database has it; `episodes` joins the scene videos in it."""
    episode, scenes = await catalog.episode_with_scenes(await database.pool(), context.partition_key)
    if episode is None:
        raise dg.Failure(f"episode {context.partition_key!r} is not in the studio database")
    order = [
        {"position": s["position"], "scene": s["slug"], "title": s["title"],
         "transition": s["transition"], "transition_s": s["transition_s"]}
        for s in scenes
    ]
    return dg.MaterializeResult(
        metadata={
            "title": episode["title"],
            "project": episode["project_slug"],
            "season": episode["season"],
            "number": episode["number"],
            "scenes": len(scenes),
            "running_order": dg.MetadataValue.json(order),
        }
    )
