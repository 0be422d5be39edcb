"""LoRA training figures on a real embedded PostgreSQL and a Dagster test instance.

- training_overhead_s: preview training of one character through Dagster (lora_checkpoints: the Pipes
  launcher, parsing, validation, the row; no samples) minus the same preview trainer command run bare
  on the same dataset; median of 3 (goal <= 2 s)
- training_preview_bare_s: the bare preview trainer (SDXL layout, rank 2), for scale
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg

from anime_assets.training import lora_checkpoints, training_dataset
from bench.results import record
from resources.lora_trainer import LoraTrainerResource
from studio.db.embedded import ensure_database, start_embedded_server, stop_embedded_server
from studio.db.migrate import migrate
from studio.db.pool import connect
from studio.spec.importer import import_project
from studio.spec.validation import load_spec
from studio.training.kohya_command import TrainingPlan, preview_command
from tests.training_seed import add_approved, resources

SPEC = Path(__file__).resolve().parents[1] / "examples" / "lantern_harbor.yaml"
ROUNDS = 3


async def _prepare(url: str, media: Path) -> None:
    async with connect(url) as conn:
        await migrate(conn)
        await import_project(conn, load_spec(SPEC), SPEC, media)
        await conn.execute("UPDATE characters SET target_images = 3 WHERE slug = 'mika'")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        url = asyncio.run(ensure_database(start_embedded_server(home / "pg"), "bench"))
        try:
            asyncio.run(_prepare(url, home / "media"))
            add_approved(url, home, "mika", 3)
            trainer = LoraTrainerResource(backend="preview", rank=2, epochs=2, sample_count=0)
            with dg.instance_for_test() as instance:
                instance.add_dynamic_partitions("character", ["mika"])
                done = dg.materialize([training_dataset], partition_key="mika", instance=instance,
                                      resources=resources(url, home, trainer))
                toml = Path(done.asset_materializations_for_node("training_dataset")[0]
                            .metadata["dataset_toml"].value)
                through, bare = [], []
                for i in range(ROUNDS):
                    started = time.perf_counter()
                    result = dg.materialize([lora_checkpoints], partition_key="mika", instance=instance,
                                            resources=resources(url, home, trainer),
                                            selection=[lora_checkpoints])
                    through.append(time.perf_counter() - started)
                    assert result.success
                    plan = TrainingPlan(architecture="sdxl", pretrained_model=home / "base.safetensors",
                                        dataset_config=toml, output_dir=home / f"bare{i}", output_name="bare",
                                        rank=2, alpha=1, epochs=2)
                    started = time.perf_counter()
                    subprocess.run(preview_command(plan, python=sys.executable), check=True,
                                   capture_output=True)
                    bare.append(time.perf_counter() - started)
        finally:
            stop_embedded_server(home / "pg")
    record({"training_overhead_s": round(statistics.median(through) - statistics.median(bare), 3),
            "training_preview_bare_s": round(statistics.median(bare), 3)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
