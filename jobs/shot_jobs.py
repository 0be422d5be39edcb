"""Jobs that render a scene's shots."""

import dagster as dg

# Keyframes of the chain openers, then every clip whose inputs changed, for one scene.
shot_clips_job = dg.define_asset_job(
    "shot_clips_job", selection=dg.AssetSelection.assets("shot_keyframes", "shot_clips")
)
