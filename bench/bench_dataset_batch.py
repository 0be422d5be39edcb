"""Dataset batch figures against the ComfyUI and Ollama doubles, on a real embedded PostgreSQL.

- overhead_ms_per_image: doubles answer at once, batch of 100; wall time per image from the first
  submit to the last recorded decision (goal <= 20 ms). Also the median submit-to-decision latency.
  The doubles run in their own processes, like the real services, but on the same cores: the wall
  time also pays for the CPU they spend (the ComfyUI double's ~70 websocket messages and 832x1216 PNG
  per image, which a real ComfyUI spends on the GPU box). So the CPU of that batch is reported beside
  it, per image: overhead_cpu_ms_per_image (this process: the pipeline's own), the doubles' and
  PostgreSQL's. On 2 cores the wall time per image cannot be under half their sum.
- gpu_duty_pct: a double taking 1.0 s per job, batch of 20; share of the batch's span in which the
  "GPU" was executing a job (goal >= 98 %; the seed system polled every 5 s).
- gpu_duty_fast_pct: the same with 0.2 s per job (fast models: LCM, Lightning, Turbo), batch of 50
  (goal >= 98 %): per-image overhead the GPU waits for shows five times more here.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.cpu_share import CpuMeter, postgres_pids
from bench.results import record
from studio.clients.comfyui import ComfyUIClient
from studio.clients.ollama import OllamaClient
from studio.datasets.generators import ComfyImageGenerator
from studio.review.reviewers import VisionImageReviewer
from studio.datasets import repository
from studio.datasets.batch import run_batch
from studio.db.embedded import ensure_database, start_embedded_server, stop_embedded_server
from studio.db.pool import create_pool
from studio.spec.importer import import_project
from studio.spec.validation import load_spec
from tests.doubles.comfyui import ComfyUIDouble
from tests.doubles.ollama import OllamaDouble

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "examples" / "lantern_harbor.yaml"
CHECKPOINT = "animagine-xl-3.1.safetensors"


@contextlib.contextmanager
def _service(*args: str):
    """(URL, process id) of a double serving in its own process."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.doubles.serve", *args], cwd=REPO,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        yield proc.stdout.readline().strip(), proc.pid
    finally:
        proc.stdin.close()
        proc.wait(10)


async def _batch(pool, media: Path, comfy_url: str, ollama_url: str, count: int, run_id: str):
    character = await repository.load_character(pool, "mika")
    generator = ComfyImageGenerator(ComfyUIClient([comfy_url], poll_interval_s=2.0))
    reviewer = VisionImageReviewer(OllamaClient(ollama_url))
    started = time.perf_counter()
    report = await run_batch(pool, character, generator, reviewer, media, count=count, run_id=run_id)
    return report, time.perf_counter() - started


async def measure(home: Path) -> dict:
    url = await ensure_database(start_embedded_server(home / "pg"), "bench")
    pool = await create_pool(url)
    async with pool.acquire() as conn:
        await import_project(conn, load_spec(SPEC), SPEC, home / "media")
    figures = {}
    # Answering at once, each in its own process like the real services.
    with _service("comfyui", "--install", f"CheckpointLoaderSimple:ckpt_name:{CHECKPOINT}") as (comfy_url, comfy), \
            _service("ollama") as (ollama_url, ollama):
        await _batch(pool, home / "media", comfy_url, ollama_url, 5, "warm-up")
        meter = CpuMeter(doubles=lambda: [comfy, ollama], db=lambda: postgres_pids(home / "pg"))
        meter.start()
        report, elapsed = await _batch(pool, home / "media", comfy_url, ollama_url, 100, "overhead")
        cpu = meter.stop()
        latencies = [(done - submitted) * 1000 for _, submitted, done in report.timings]
        figures["overhead_ms_per_image"] = round(elapsed * 1000 / 100, 2)
        figures["overhead_latency_p50_ms"] = round(statistics.median(latencies), 2)
        figures["overhead_images_recorded"] = len(report.timings)
        figures["overhead_cpu_ms_per_image"] = round(cpu["own"] * 1000 / 100, 2)
        figures["overhead_doubles_cpu_ms_per_image"] = round(cpu["doubles"] * 1000 / 100, 2)
        figures["overhead_db_cpu_ms_per_image"] = round(cpu["db"] * 1000 / 100, 2)
    for key, job_seconds, count in (("gpu_duty", 1.0, 20), ("gpu_duty_fast", 0.2, 50)):
        with ComfyUIDouble(job_seconds=job_seconds) as comfy, OllamaDouble() as ollama:
            comfy.install("CheckpointLoaderSimple", "ckpt_name", CHECKPOINT)
            await _batch(pool, home / "media", comfy.url, ollama.url, count, key)
            busy = sum(job.finished_at - job.started_at for job in comfy.jobs)
            span = max(job.finished_at for job in comfy.jobs) - min(job.started_at for job in comfy.jobs)
            figures[f"{key}_pct"] = round(100 * busy / span, 2)
            figures[f"{key}_jobs"] = len(comfy.jobs)
    await pool.close()
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        home = Path(tmp)
        try:
            figures = asyncio.run(measure(home))
        finally:
            stop_embedded_server(home / "pg")
    record(figures)


if __name__ == "__main__":
    main()
