"""Which trainer lora_checkpoints runs, as a Dagster resource: kohya sd-scripts (live) or the CPU
preview trainer; the command lines themselves are plain code in studio/training/kohya_command.py."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg

from studio.training.kohya_command import KohyaInstall, TrainingPlan, live_command, preview_command


class LoraTrainerResource(dg.ConfigurableResource):
    backend: str = "preview"  # "preview" (CPU program) or "live" (kohya through accelerate launch)
    rank: int = 2
    alpha: float = 1.0
    epochs: int = 2
    learning_rate: float = 1e-4
    # Where the style's checkpoint file is for kohya (ComfyUI's models/checkpoints, usually).
    checkpoint_dir: str = ""
    sd_scripts_dir: str = ""
    accelerate: str = "accelerate"
    accelerate_config: str = ""
    python: str = sys.executable  # runs the Pipes launcher and the preview trainer
    sample_count: int = 3
    preview_delay_s: float = 0.0  # tests only (STUDIO_PREVIEW_DELAY_S): each preview epoch takes this longer

    def base_model_path(self, checkpoint: str) -> Path:
        return Path(self.checkpoint_dir or ".").resolve() / checkpoint

    def command(self, plan: TrainingPlan) -> list[str]:
        if self.backend == "preview":
            return preview_command(plan, python=self.python, epoch_delay_s=self.preview_delay_s)
        if not self.sd_scripts_dir:
            raise ValueError("sd_scripts_dir (STUDIO_KOHYA_DIR) is not set: the live trainer needs kohya sd-scripts")
        install = KohyaInstall(sd_scripts_dir=Path(self.sd_scripts_dir), accelerate=self.accelerate,
                               accelerate_config=Path(self.accelerate_config) if self.accelerate_config else None)
        return live_command(plan, install)


def training_resources(backend: str, settings) -> dict:
    """The trainer and the Pipes client that runs our launcher, for either backend."""
    if backend == "preview":
        trainer = LoraTrainerResource(backend="preview", rank=2, epochs=2, preview_delay_s=settings.preview_delay_s)
    else:
        trainer = LoraTrainerResource(
            backend="live", rank=settings.lora_rank, alpha=settings.lora_rank / 2, epochs=settings.lora_epochs,
            checkpoint_dir=str(settings.kohya_checkpoint_dir or ""), sd_scripts_dir=str(settings.kohya_dir or ""),
            accelerate=settings.kohya_accelerate)
    return {"lora_trainer": trainer, "pipes_subprocess_client": dg.PipesSubprocessClient()}
