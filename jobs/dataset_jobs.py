"""Jobs that grow character datasets."""

import dagster as dg

# One batch for one character, then its approved set is re-counted.
dataset_batch_job = dg.define_asset_job(
    "dataset_batch_job", selection=dg.AssetSelection.assets("dataset_images", "approved_images")
)
