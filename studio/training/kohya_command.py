"""The trainer command lines: kohya sd-scripts through `accelerate launch` (live) or the CPU preview
trainer (preview). Both take the same flags, so the launcher and the parser do not know which runs.

SD1.5 trains with train_network.py; SDXL with sdxl_train_network.py, caching the text encoders'
outputs, which kohya only allows when the text encoders are not trained (--network_train_unet_only).
`--console_log_simple` puts kohya's log records on stdout as plain lines (rich otherwise wraps them at
80 columns, in the middle of paths); progress stays on stderr.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from studio.domain.base_model import Architecture

SCRIPTS: dict[Architecture, str] = {"sd15": "train_network.py", "sdxl": "sdxl_train_network.py"}
RESOLUTIONS: dict[Architecture, int] = {"sd15": 512, "sdxl": 1024}


def caches_text_encoder_outputs(architecture: Architecture) -> bool:
    """SDXL trains the U-Net alone on cached text-encoder outputs; kohya then refuses shuffled captions
    (and caption dropout), so the dataset TOML of such a training must not shuffle."""
    return architecture == "sdxl"


@dataclass(frozen=True)
class TrainingPlan:
    architecture: Architecture
    pretrained_model: Path
    dataset_config: Path
    output_dir: Path  # a temporary folder: kohya writes in place and picks the format from the extension
    output_name: str
    rank: int
    alpha: float
    epochs: int
    learning_rate: float = 1e-4
    seed: int = 42
    mixed_precision: str = "bf16"
    save_precision: str = "fp16"

    @property
    def train_text_encoder(self) -> bool:
        return not caches_text_encoder_outputs(self.architecture)

    @property
    def output_file(self) -> Path:
        return self.output_dir / f"{self.output_name}.safetensors"


@dataclass(frozen=True)
class KohyaInstall:
    sd_scripts_dir: Path
    accelerate: str = "accelerate"
    accelerate_config: Path | None = None
    cpu_threads: int = 2
    optimizer: str = "AdamW8bit"
    extra_args: tuple[str, ...] = ()


def trainer_args(plan: TrainingPlan) -> list[str]:
    if plan.rank < 1:
        raise ValueError(f"rank must be at least 1, got {plan.rank}")
    if plan.epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {plan.epochs}")
    for name in ("pretrained_model", "dataset_config", "output_dir"):
        # A relative model path is taken for a hub repo id and looked up online after ~8 s of setup.
        if not getattr(plan, name).is_absolute():
            raise ValueError(f"{name} must be an absolute path: {getattr(plan, name)}")
    args = [
        "--pretrained_model_name_or_path", str(plan.pretrained_model),
        "--dataset_config", str(plan.dataset_config),
        "--output_dir", str(plan.output_dir), "--output_name", plan.output_name,
        "--save_model_as", "safetensors",
        "--network_module", "networks.lora",
        "--network_dim", str(plan.rank), "--network_alpha", f"{plan.alpha:g}",
        "--learning_rate", f"{plan.learning_rate:g}",
        "--max_train_epochs", str(plan.epochs),
        "--mixed_precision", plan.mixed_precision, "--save_precision", plan.save_precision,
        "--seed", str(plan.seed),
        "--cache_latents", "--console_log_simple",
    ]
    if caches_text_encoder_outputs(plan.architecture):
        args += ["--cache_text_encoder_outputs", "--network_train_unet_only"]
    return args


def live_command(plan: TrainingPlan, kohya: KohyaInstall) -> list[str]:
    launch = [kohya.accelerate, "launch"]
    if kohya.accelerate_config:
        launch += ["--config_file", str(kohya.accelerate_config)]
    launch += ["--num_cpu_threads_per_process", str(kohya.cpu_threads)]
    script = str(kohya.sd_scripts_dir / SCRIPTS[plan.architecture])
    return [*launch, script, *trainer_args(plan), "--optimizer_type", kohya.optimizer,
            "--sdpa", "--gradient_checkpointing", *kohya.extra_args]


def preview_command(plan: TrainingPlan, python: str = sys.executable, epoch_delay_s: float = 0.0) -> list[str]:
    delay = ["--epoch_delay_s", f"{epoch_delay_s:g}"] if epoch_delay_s else []
    return [python, "-m", "studio.training.preview_trainer", "--architecture", plan.architecture,
            *trainer_args(plan), *delay]


def trainer_environment(base: dict[str, str]) -> dict[str, str]:
    """kohya's stdout is block-buffered on a pipe (and its tail lost on a kill); offline, no hub."""
    return {**base, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "LANG": base.get("LANG", "C.UTF-8")}
