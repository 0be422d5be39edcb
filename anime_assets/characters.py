"""The `characters` asset: one partition per character row, the root of its dataset lineage."""

import dagster as dg

from anime_assets.partitions import character_partitions
from resources.database import StudioDatabase
from studio.db import catalog
from studio.domain.appearance import Appearance


@dg.asset(partitions_def=character_partitions, group_name="characters", kinds={"postgres"})
async def characters(context: dg.AssetExecutionContext, database: StudioDatabase) -> dg.MaterializeResult:
    """The character sheet as stored in the studio DB: design prompt, appearance data, target."""
    row = await catalog.character(await database.pool(), context.partition_key)
    if row is None:
        raise dg.Failure(f"character {context.partition_key!r} is not in the studio database")
    appearance = Appearance.model_validate(row["appearance_data"])
    return dg.MaterializeResult(
        metadata={
            "name": row["name"],
            "project": row["project_slug"],
            "style": row["style_slug"] or "",
            "species": appearance.species,
            "human": appearance.is_human,
            "design_prompt": row["design_prompt"],
            "target_images": row["target_images"],
            "reference_images": len(row["reference_images"]),
            "appearance": dg.MetadataValue.json(appearance.model_dump()),
        },
        data_version=dg.DataVersion(str(row["updated_at"].timestamp())),
    )
