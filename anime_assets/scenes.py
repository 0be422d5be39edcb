"""The `scenes` asset: one partition per scene, with its ordered shots."""

import dagster as dg

from anime_assets.partitions import scene_partitions
from resources.database import StudioDatabase
from studio.db import catalog


@dg.asset(partitions_def=scene_partitions, group_name="scenes", kinds={"postgres"})
async def scenes(context: dg.AssetExecutionContext, database: StudioDatabase) -> dg.MaterializeResult:
    """The scene plan: its shots in order, who is in them and what they say."""
    scene, shots = await catalog.scene_with_shots(await database.pool(), context.partition_key)
    if scene is None:
        raise dg.Failure(f"scene {context.partition_key!r} is not in the studio database")
    plan = [
        {
            "position": s["position"],
            "description": s["description"],
            "duration_s": s["duration_s"],
            "characters": s["characters"],
            "dialogue_lines": len(s["dialogue"]),
        }
        for s in shots
    ]
    return dg.MaterializeResult(
        metadata={
            "title": scene["title"],
            "project": scene["project_slug"],
            "shots": len(shots),
            "planned_seconds": round(sum(s["duration_s"] for s in shots), 2),
            "plan": dg.MetadataValue.json(plan),
        }
    )
