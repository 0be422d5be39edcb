"""Jobs that materialize the catalog assets, one per partition set."""

import dagster as dg

from anime_assets.partitions import character_partitions, episode_partitions, scene_partitions

characters_job = dg.define_asset_job(
    "characters_job", selection=dg.AssetSelection.assets("characters"), partitions_def=character_partitions
)
scenes_job = dg.define_asset_job(
    "scenes_job", selection=dg.AssetSelection.assets("scenes"), partitions_def=scene_partitions
)
episodes_job = dg.define_asset_job(
    "episodes_job", selection=dg.AssetSelection.assets("episodes"), partitions_def=episode_partitions
)
