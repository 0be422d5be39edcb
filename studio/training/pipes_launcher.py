"""The Pipes launcher: `python -m studio.training.pipes_launcher`, started by Dagster's
PipesSubprocessClient, runs the trainer command it is handed and reports back.

Extras (from the lora_checkpoints asset): `command`, `env`, `output_file` (inside a temporary
folder the trainer writes to), `final_path`, `epochs`, `failure_report`. kohya's progress becomes
Pipes log lines (one per epoch, and every `log_every_steps` steps) and the loss curve, steps and
file facts become the materialization's metadata. Exit 0 is not success: the trainer's file must
read back as safetensors; only then is it moved to `final_path` (one rename, same filesystem). On
failure the temporary folder is removed, a JSON report (exit code, the real error, the last lines)
is written to `failure_report` and the launcher exits 1. When the run that started it dies, the
trainer is stopped (studio/training/supervisor.py) and only the temporary folder is removed.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from dagster_pipes import PipesContext, open_dagster_pipes

from studio.training.kohya_output import Epoch, Event, LogLine, Progress, TrainingProgress, failure_summary
from studio.training.lora_file import InvalidLora, inspect_lora
from studio.training.supervisor import run_trainer
from studio.uploads import write_atomically

LOG_EVERY_STEPS = 50


def _reporter(pipes: PipesContext, progress: TrainingProgress, every: int):
    def on_event(event: Event) -> None:
        if isinstance(event, Progress) and event.step and event.avr_loss is not None:
            if event.step == event.total or event.step % every == 0:
                pipes.log.info(f"step {event.step}/{event.total} avr_loss={event.avr_loss:.4g}")
        elif isinstance(event, Epoch):
            pipes.log.info(f"epoch {event.epoch}/{event.total}")
        elif isinstance(event, LogLine) and (" ERROR " in f" {event.text} " or event.text.startswith("ERROR")):
            pipes.log.error(event.text)
    return on_event


def _fail(extras: dict, temp_dir: Path, report: dict) -> int:
    shutil.rmtree(temp_dir, ignore_errors=True)
    if extras.get("failure_report"):
        write_atomically(Path(extras["failure_report"]), json.dumps(report).encode())
    return 1


def launch(pipes: PipesContext) -> int:
    extras = pipes.extras
    output_file, final_path = Path(extras["output_file"]), Path(extras["final_path"])
    temp_dir = output_file.parent
    progress = TrainingProgress(epochs=extras.get("epochs"))
    env = {**os.environ, **extras.get("env", {})}
    outcome = run_trainer(list(extras["command"]), env=env, progress=progress,
                          on_event=_reporter(pipes, progress, int(extras.get("log_every_steps", LOG_EVERY_STEPS))))
    lines = list(progress.last_lines)
    base = {"exit_code": outcome.exit_code, "last_lines": lines[-15:], "steps": progress.last_step,
            "loss_curve": progress.loss_curve()}
    if outcome.orphaned:
        # The run that started us is dead: nobody reads a report; leave nothing behind.
        shutil.rmtree(temp_dir, ignore_errors=True)
        return 1
    if outcome.stopped_by is not None:
        pipes.log.warning(f"training stopped by signal {outcome.stopped_by}; the trainer's group was ended")
        return _fail(extras, temp_dir, {**base, "error": f"training was stopped (signal {outcome.stopped_by})"})
    if outcome.exit_code != 0:
        error = failure_summary(lines) or "no output"
        pipes.log.error(f"trainer exited with code {outcome.exit_code}: {error}")
        return _fail(extras, temp_dir, {**base, "error": f"trainer exited with code {outcome.exit_code}: {error}"})
    try:
        info = inspect_lora(output_file)
    except InvalidLora as exc:
        error = failure_summary(lines)
        pipes.log.error(f"trainer exited 0 but {exc}")
        return _fail(extras, temp_dir, {**base, "error": f"trainer exited 0 but {exc}" + (f" ({error})" if error else "")})
    curve = progress.loss_curve()
    final_path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(output_file, final_path)
    shutil.rmtree(temp_dir, ignore_errors=True)
    pipes.report_asset_materialization(metadata={
        "lora_path": {"raw_value": str(final_path), "type": "path"},
        "sha256": info.sha256, "file_bytes": info.bytes, "rank": info.rank, "lora_modules": info.modules,
        "steps": progress.last_step, "epochs": progress.epochs or 0,
        "loss_by_epoch": {"raw_value": progress.loss_by_epoch(), "type": "json"},
        "loss_curve": {"raw_value": curve, "type": "json"},
        "final_avr_loss": curve[-1][1] if curve else float("nan"),
        "trainer_seconds": round(outcome.seconds, 3),
        "base_model_version": info.metadata.get("ss_base_model_version", ""),
    })
    return 0


def main() -> int:
    with open_dagster_pipes() as pipes:
        return launch(pipes)


if __name__ == "__main__":
    sys.exit(main())
