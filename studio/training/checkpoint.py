"""One training of one character, around the Pipes run: where its files go, what the launcher is
handed, and what is recorded after it (samples, the row, the gate), in plain code the asset calls."""

from __future__ import annotations

import json
import logging
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from studio.datasets.models import CharacterContext
from studio.domain.base_model import Architecture
from studio.domain.lora_training import sample_quality
from studio.training import repository
from studio.training.kohya_command import TrainingPlan, trainer_environment
from studio.training.samples import render_samples

LAUNCHER = "studio.training.pipes_launcher"


@dataclass(frozen=True)
class TrainingJob:
    character: CharacterContext
    version: int
    plan: TrainingPlan
    final_path: Path
    failure_report: Path
    media_root: Path

    @property
    def lora_name(self) -> str:
        """The name ComfyUI's LoraLoader takes: the path under media/loras, which the ComfyUI server
        lists as one of its LoRA folders (extra_model_paths)."""
        return self.final_path.relative_to(self.media_root / "loras").as_posix()

    @property
    def temp_dir(self) -> Path:
        return self.plan.output_dir

    def launcher_command(self, python: str = sys.executable) -> list[str]:
        return [python, "-m", LAUNCHER]

    def extras(self, command: list[str], env: dict[str, str] | None = None) -> dict:
        return {"command": command, "env": trainer_environment(env or {}), "output_file": str(self.plan.output_file),
                "final_path": str(self.final_path), "epochs": self.plan.epochs,
                "failure_report": str(self.failure_report)}

    def failure(self) -> dict:
        try:
            return json.loads(self.failure_report.read_text())
        except (OSError, ValueError):
            return {}

    def clean_up(self) -> None:
        """Nothing of a failed or killed training stays behind."""
        shutil.rmtree(self.temp_dir, ignore_errors=True)
        self.failure_report.unlink(missing_ok=True)


def plan_training(character: CharacterContext, *, version: int, architecture: Architecture, dataset_toml: Path,
                  base_model: Path, media_root: Path, run_id: str, rank: int, alpha: float, epochs: int,
                  learning_rate: float) -> TrainingJob:
    folder = media_root / "loras" / character.slug
    name = f"{character.slug}_v{version}"
    temp = folder / f".tmp-{run_id}"  # kohya picks the format from the extension: a temp folder, not a temp name
    plan = TrainingPlan(architecture=architecture, pretrained_model=base_model, dataset_config=dataset_toml,
                        output_dir=temp, output_name=name, rank=rank, alpha=alpha, epochs=epochs,
                        learning_rate=learning_rate)
    return TrainingJob(character=character, version=version, plan=plan, final_path=folder / f"{name}.safetensors",
                       failure_report=folder / f".tmp-{run_id}.failure.json", media_root=media_root)


async def review_and_record(conn, job: TrainingJob, trained: dict, *, dataset_hash: str, image_ids: list[int],
                            generator, reviewer, sample_count: int, backend: str, gpu_seconds: float,
                            run_id: str | None, log: logging.Logger) -> dict:
    """Render and review samples, then record the row and the gate's decision (one transaction).
    If anything here fails the checkpoint file and its samples are removed: no file without a row."""
    samples: list[dict] = []
    try:
        if sample_count:
            samples = await render_samples(job.character, job.lora_name, job.version, generator=generator,
                                           reviewer=reviewer, media_root=job.media_root, count=sample_count, log=log)
        scores = [s["score"] for s in samples if s["score"] is not None]
        quality = sample_quality(scores)
        fields = {
            "file_path": job.final_path.relative_to(job.media_root).as_posix(), "lora_name": job.lora_name,
            "sha256": trained["sha256"], "base_model": job.character.style.checkpoint,
            "architecture": job.plan.architecture, "rank": trained["rank"], "network_alpha": job.plan.alpha,
            "epochs": job.plan.epochs, "steps": trained["steps"], "image_count": len(image_ids),
            "image_ids": image_ids, "dataset_hash": dataset_hash, "loss_curve": trained["loss_curve"],
            "epoch_losses": trained["loss_by_epoch"], "file_bytes": trained["file_bytes"],
            "gpu_seconds": gpu_seconds, "sample_images": samples, "quality_score": quality,
            "backend": backend, "dagster_run_id": run_id,
        }
        _, decision = await repository.record_checkpoint(conn, character_id=job.character.id, version=job.version,
                                                         fields=fields)
    except BaseException:
        job.final_path.unlink(missing_ok=True)
        for sample in samples:
            (job.media_root / sample["path"]).unlink(missing_ok=True)
        raise
    return {"samples": samples, "quality_score": quality, "active": decision.activate, "gate_reason": decision.reason}
