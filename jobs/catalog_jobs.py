"""Jobs that materialize the catalog assets; partitioning is inferred from the selected asset."""

import dagster as dg

characters_job = dg.define_asset_job("characters_job", selection=dg.AssetSelection.assets("characters"))
scenes_job = dg.define_asset_job("scenes_job", selection=dg.AssetSelection.assets("scenes"))
episode_plans_job = dg.define_asset_job("episode_plans_job", selection=dg.AssetSelection.assets("episode_plans"))
