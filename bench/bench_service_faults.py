"""What a service fault costs, with the shipped client settings, against the ComfyUI double and a real
embedded PostgreSQL.

- comfyui_restart_cost_s: a 1 s job whose ComfyUI restarts mid-job (1 s down): wall time beyond the clean
  job's and the downtime. The client finds the lost prompt on its next slow poll (every 5 s) and, as the
  socket dropped, resubmits at once instead of waiting out history_timeout_s.
- comfyui_gone_fail_s: a server gone for good mid-job with unreachable_timeout_s = 5 s: from the stop to
  the job failing as "not reachable" (the bound counts from the server's last answer, so at most 5 s).
- db_restart_resume_s: PostgreSQL stopped for 2 s under a write retried by studio.db.retry: from the server
  accepting connections again to the write committed (the retry polls every 0.5 s).

Run: .venv/bin/python -m bench.bench_service_faults
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bench.results import record
from studio.clients.comfyui import ComfyUIClient
from studio.clients.comfyui_protocol import ComfyUnreachableError
from studio.db.embedded import ensure_database, start_embedded_server, stop_embedded_server
from studio.db.pool import create_pool
from studio.db.retry import in_transaction
from tests.doubles.comfyui import ComfyUIDouble
from tests.test_comfyui_client import workflow

JOB_S, DOWN_S, GONE_BOUND_S = 1.0, 1.0, 5.0


async def _running(comfy: ComfyUIDouble) -> None:
    while not any(message["type"] == "progress" for _, message in list(comfy.sent)):
        await asyncio.sleep(0.01)


async def _job_seconds(seed: int, restart: bool) -> float:
    with ComfyUIDouble(job_seconds=JOB_S) as comfy:
        client = ComfyUIClient([comfy.url])
        started = time.monotonic()
        job = asyncio.create_task(client.run(workflow(seed=seed)))
        if restart:
            await _running(comfy)
            await asyncio.to_thread(comfy.stop_serving)
            await asyncio.sleep(DOWN_S)
            await asyncio.to_thread(comfy.serve_again)
        await job
        return time.monotonic() - started


async def _gone_fail(seed: int) -> float:
    with ComfyUIDouble(job_seconds=30.0) as comfy:
        client = ComfyUIClient([comfy.url], unreachable_timeout_s=GONE_BOUND_S)
        job = asyncio.create_task(client.run(workflow(seed=seed)))
        await _running(comfy)
        await asyncio.to_thread(comfy.stop_serving)
        gone = time.monotonic()
        try:
            await job
        except ComfyUnreachableError:
            return time.monotonic() - gone
        raise AssertionError("the job did not fail as not reachable")


async def _db_resume(pg_dir: Path, url: str) -> float:
    pool = await create_pool(url, max_size=2)
    try:
        stop_embedded_server(pg_dir)
        write = asyncio.create_task(in_transaction(pool, lambda conn: conn.fetchval("SELECT 1")))
        await asyncio.sleep(2.0)
        await asyncio.to_thread(start_embedded_server, pg_dir)
        back = time.monotonic()
        await write
        return time.monotonic() - back
    finally:
        pool.terminate()


async def main() -> None:
    clean = [await _job_seconds(seed, restart=False) for seed in (1, 2)]
    restarted = [await _job_seconds(seed, restart=True) for seed in (3, 4)]
    gone = [await _gone_fail(seed) for seed in (5, 6)]
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        pg_dir = Path(tmp) / "pg"
        url = await ensure_database(start_embedded_server(pg_dir), "studio")
        try:
            resume = [await _db_resume(pg_dir, url) for _ in range(3)]
        finally:
            stop_embedded_server(pg_dir)
    record({
        "comfyui_restart_cost_s": round(statistics.median(restarted) - statistics.median(clean) - DOWN_S, 2),
        "comfyui_gone_fail_s": round(max(gone), 2),
        "db_restart_resume_s": round(statistics.median(resume), 2),
    })


if __name__ == "__main__":
    asyncio.run(main())
