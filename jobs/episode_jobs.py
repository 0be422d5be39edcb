"""Assembling and publishing an episode: one run per episode partition."""

import dagster as dg

episodes_job = dg.define_asset_job(
    "episodes_job", selection=dg.AssetSelection.assets("episodes", "published_episodes"))
