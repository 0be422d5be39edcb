"""Hardening figures: how fast the service notices the database leaving and coming back, and how fast a
killed GPU run's slot is given back (goals: db_down_503_s <= 2, db_recovery_s <= 2, slot_recovery_s <= 120).

- db_down_503_s: `studio serve` in its own process on its own embedded PostgreSQL; the server is stopped
  (pg_ctl, from another process) and a DB route polled every 20 ms: seconds from the server's exit to
  the first 503 (while it shuts down the API still gets answers, or 503 for new connections).
- db_recovery_s: the server started again: seconds from its being up to the first 200 (no API restart).
- slot_recovery_s: a real dagster-daemon evaluating the dead-run sensor (as deployed, every 10 s), an
  in-process `dg.materialize` run holding the one `gpu` slot, a second GPU run queued behind it; the first
  run process is SIGKILLed mid-step: seconds until the second run's GPU step starts.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from bench.results import record
from studio.dagster_home import TEMPLATE, initialize_pools
from studio.db.embedded import ensure_database, start_embedded_server, stop_embedded_server
from studio.processes import process_started_at

REPO = Path(__file__).resolve().parents[1]
PORT = 8492
ROUTE = "/api/review/counts"


def _in_own_process(action: str, pg_dir: Path) -> None:
    # pgserver caches a stopped server per process; an operator's start/stop is another process anyway.
    code = f"from pathlib import Path; from studio.db.embedded import {action}; {action}(Path({str(pg_dir)!r}))"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)


def _first(client: httpx.Client, status: int, timeout_s: float = 30) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            if client.get(ROUTE, timeout=5).status_code == status:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise SystemExit(f"no {status} within {timeout_s} s")


def measure_database_outage(home: Path) -> dict:
    db_url = asyncio.run(ensure_database(start_embedded_server(home / "pg"), "bench_hardening"))
    env = {**os.environ, "STUDIO_DATABASE_URL": db_url, "STUDIO_HOME": str(home)}
    server = subprocess.Popen([sys.executable, "-m", "studio.cli", "serve", "--port", str(PORT)],
                              cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{PORT}") as client:
            _first(client, 200, 60)
            postmaster = int((home / "pg" / "postmaster.pid").read_text().split()[0])
            stop_code = ("from pathlib import Path; from studio.db.embedded import stop_embedded_server; "
                         f"stop_embedded_server(Path({str(home / 'pg')!r}))")
            stop = subprocess.Popen([sys.executable, "-c", stop_code], cwd=REPO)
            # Stopping takes pg_ctl a moment: the clock starts when the server's main process has exited
            # (its backends end before it does).
            while process_started_at(postmaster) is not None:
                time.sleep(0.005)
            down = _first(client, 503)
            stop.wait(60)
            _in_own_process("start_embedded_server", home / "pg")
            back = _first(client, 200)
    finally:
        server.terminate()
        server.wait(10)
    return {"db_down_503_s": round(down, 3), "db_recovery_s": round(back, 3)}


def _dagster_home(home: Path, server_url: str) -> Path:
    asyncio.run(ensure_database(server_url, "dagster"))
    host = server_url.partition("host=")[2]
    config = yaml.safe_load(TEMPLATE.read_text())
    config["storage"] = {"postgres": {"postgres_url": f"postgresql+psycopg2://postgres@/dagster?host={host}"}}
    dagster_home = home / "dagster"
    dagster_home.mkdir(exist_ok=True)
    (dagster_home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return dagster_home


def _wait(condition, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting")
        time.sleep(0.1)


def measure_slot_recovery(home: Path) -> dict:
    import dagster as dg

    server_url = start_embedded_server(home / "pg")
    dagster_home = _dagster_home(home, server_url)
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    processes = []

    def start(*command: str) -> subprocess.Popen:
        process = subprocess.Popen(list(command), cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        processes.append(process)
        return process

    with dg.DagsterInstance.get() as instance:
        initialize_pools(instance)
        try:
            start(str(Path(sys.executable).with_name("dagster-daemon")), "run", "-m", "bench.dead_run_location")
            _wait(lambda: "SENSOR" in instance.get_daemon_heartbeats(), 120)
            holder = start(sys.executable, "-m", "tests.dagster_gpu_worker", str(home / "a"), "600")
            _wait(lambda: (home / "a").exists(), 120)
            start(sys.executable, "-m", "tests.dagster_gpu_worker", str(home / "b"), "0")
            _wait(lambda: instance.event_log_storage.get_concurrency_info("gpu").pending_steps, 120)
            holder.send_signal(signal.SIGKILL)
            killed_at = time.time()
            _wait(lambda: (home / "b").exists(), 300)
            recovery = float((home / "b").read_text()) - killed_at
        finally:
            for process in reversed(processes):
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    try:
                        process.wait(20)
                    except subprocess.TimeoutExpired:
                        process.kill()
    return {"slot_recovery_s": round(recovery, 2)}


def main() -> None:
    figures = {}
    with tempfile.TemporaryDirectory(prefix="bench-hardening-") as tmp:
        home = Path(tmp)
        try:
            figures.update(measure_database_outage(home))
            figures.update(measure_slot_recovery(home))
        finally:
            stop_embedded_server(home / "pg")
    record(figures)


if __name__ == "__main__":
    main()
