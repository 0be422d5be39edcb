"""Review service speed with 100,000 images over 200 characters (goals: pending page p99 <= 50 ms and
>= 1,000 requests/s with 32 concurrent clients; approvals >= 500/s).

The service runs as `studio serve` in its own process; `wrk` (a C load generator) drives the page so
the client does not compete for the interpreter; approvals come from 32 concurrent async clients.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.results import record
from bench.review_dataset import seed_review_queue
from studio.db.embedded import ensure_database, start_embedded_server, stop_embedded_server
from studio.db.pool import connect
from studio.db.migrate import migrate

REPO = Path(__file__).resolve().parents[1]
PORT = 8491
WRK_SCRIPT = """
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/review/pending?limit=50&character=char-" .. math.random(1, 200))
end
"""


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def measure_pending(base: str, tmp: Path) -> dict:
    script = tmp / "pending.lua"
    script.write_text(WRK_SCRIPT)
    out = subprocess.run(["wrk", "-t2", "-c32", "-d10s", "--latency", "-s", str(script), base],
                         capture_output=True, text=True, check=True).stdout
    p99 = re.search(r"99%\s+(\S+)", out).group(1)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"pending_p99_ms": round(_ms(p99), 2), "pending_rps": round(rps, 1),
            "pending_non_2xx": int(errors.group(1)) if errors else 0}


async def measure_approvals(base: str, ids: list[int]) -> dict:
    queue = list(ids)

    async def worker(client: httpx.AsyncClient) -> int:
        done = 0
        while queue:
            response = await client.post(f"/api/images/{queue.pop()}/approve", json={})
            done += response.status_code == 200
        return done

    async with httpx.AsyncClient(base_url=base, timeout=30, limits=httpx.Limits(max_connections=32)) as client:
        started = time.perf_counter()
        approved = sum(await asyncio.gather(*(worker(client) for _ in range(32))))
        elapsed = time.perf_counter() - started
    return {"approvals_per_s": round(approved / elapsed, 1), "approvals_done": approved}


async def _prepare(home: Path) -> tuple[str, list[int]]:
    url = await ensure_database(start_embedded_server(home / "pg"), "bench_review")
    async with connect(url) as conn:
        await migrate(conn)
        await seed_review_queue(conn)
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM images WHERE status = 'pending' LIMIT 3000")]
    return url, ids


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-review-") as tmp:
        home = Path(tmp)
        server = None
        try:
            db_url, ids = asyncio.run(_prepare(home))
            env = {**os.environ, "STUDIO_DATABASE_URL": db_url, "STUDIO_HOME": str(home)}
            server = subprocess.Popen([sys.executable, "-m", "studio.cli", "serve", "--port", str(PORT)],
                                      cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            base = f"http://127.0.0.1:{PORT}"
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/api/review/counts", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            figures = measure_pending(base, home)
            figures.update(asyncio.run(measure_approvals(base, ids)))
        finally:
            if server:
                server.terminate()
                server.wait(10)
            stop_embedded_server(home / "pg")
    record(figures)


if __name__ == "__main__":
    main()
