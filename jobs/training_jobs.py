"""Jobs that train a character's LoRA."""

import dagster as dg

# The dataset snapshot, then the LoRA trained on it (with its samples and the gate).
training_job = dg.define_asset_job(
    "training_job", selection=dg.AssetSelection.assets("training_dataset", "lora_checkpoints")
)
