"""Review service speed with 100,000 images over 200 characters (goals: pending page p99 <= 50 ms and
>= 1,000 requests/s with 32 concurrent clients; approvals >= 500/s).

The service runs as `studio serve` in its own process. `wrk` (a C load generator) drives both the
page and the approvals with 32 connections, so on a 2-core machine the client takes as little CPU
from the service and PostgreSQL as possible (a Python client would compete for the same two cores).
Approvals go to distinct pending images; afterwards the database must hold as many human approvals
as wrk saw 200 responses, plus at most the 32 requests in flight when wrk stopped.
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
PENDING_SCRIPT = """
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/review/pending?limit=50&character=char-" .. math.random(1, CHARACTERS))
end
"""
# `--1m`: ten times the data, 1,000,000 images over 2,000 characters (figures get a `_1m` suffix);
# seeding takes minutes, so routine runs keep the 100,000.
SIZES = {"": (200, 100_000), "_1m": (2_000, 1_000_000)}
# Each wrk thread approves every n-th id of the file it is given: no image is approved twice.
APPROVE_SCRIPT = """
local threads = {}
setup = function(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
init = function(args)
  ids = {}
  for line in io.lines(args[1]) do ids[#ids + 1] = line end
  step, index = tonumber(args[2]), tid + 1
end
request = function()
  local id = ids[index]
  index = index + step
  return wrk.format("POST", "/api/images/" .. id .. "/approve", {["Content-Type"] = "application/json"}, "{}")
end
"""
WRK_THREADS = 2


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _wrk(base: str, script: Path, seconds: int, *args: str) -> dict:
    """wrk's figures: requests, requests/s, p99 latency (ms), non-2xx responses."""
    command = ["wrk", f"-t{WRK_THREADS}", "-c32", f"-d{seconds}s", "--latency", "-s", str(script), base]
    out = subprocess.run([*command, *(["--", *args] if args else [])],
                         capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p99_ms": round(_ms(re.search(r"99%\s+(\S+)", out).group(1)), 2),
            "non_2xx": int(errors.group(1)) if errors else 0}


def measure_pending(base: str, tmp: Path, characters: int = 200) -> dict:
    script = tmp / "pending.lua"
    script.write_text(PENDING_SCRIPT.replace("CHARACTERS", str(characters)))
    _wrk(base, script, 2)  # warm-up: connections, plans, caches
    figures = _wrk(base, script, 10)
    return {"pending_p99_ms": figures["p99_ms"], "pending_rps": round(figures["rps"], 1),
            "pending_non_2xx": figures["non_2xx"]}


def measure_approvals(base: str, tmp: Path, ids: list[int]) -> dict:
    script, id_file = tmp / "approve.lua", tmp / "pending_ids.txt"
    script.write_text(APPROVE_SCRIPT)
    id_file.write_text("\n".join(map(str, ids)))
    figures = _wrk(base, script, 5, str(id_file), str(WRK_THREADS))
    if figures["non_2xx"]:
        raise SystemExit(f"{figures['non_2xx']} approvals failed: the figure would not be approvals")
    return {"approvals_per_s": round(figures["rps"], 1), "approvals_done": figures["requests"],
            "approvals_p99_ms": figures["p99_ms"]}


async def _human_approvals(db_url: str) -> int:
    async with connect(db_url) as conn:
        return await conn.fetchval("SELECT count(*) FROM images WHERE status = 'approved' AND decided_by = 'human'")


async def _prepare(home: Path, characters: int = 200, images: int = 100_000) -> tuple[str, list[int]]:
    url = await ensure_database(start_embedded_server(home / "pg"), "bench_review")
    async with connect(url) as conn:
        await migrate(conn)
        await seed_review_queue(conn, characters=characters, images=images)
        # 33,000 pending images: more than 5 s of approvals at several times the goal.
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM images WHERE status = 'pending' ORDER BY random()")]
    return url, ids


def main() -> None:
    suffix = "_1m" if "--1m" in sys.argv[1:] else ""
    characters, images = SIZES[suffix]
    with tempfile.TemporaryDirectory(prefix="bench-review-") as tmp:
        home = Path(tmp)
        server = None
        try:
            db_url, ids = asyncio.run(_prepare(home, characters, images))
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
            figures = measure_pending(base, home, characters)
            figures.update(measure_approvals(base, home, ids))
            time.sleep(1)  # let the requests in flight when wrk stopped finish
            recorded = asyncio.run(_human_approvals(db_url))
            if not 0 <= recorded - figures["approvals_done"] <= 32:
                raise SystemExit(f"wrk saw {figures['approvals_done']} approvals, the database holds {recorded}")
        finally:
            if server:
                server.terminate()
                server.wait(10)
            stop_embedded_server(home / "pg")
    record({f"{key}{suffix}": value for key, value in figures.items()})


if __name__ == "__main__":
    main()
