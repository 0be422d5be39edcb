"""demo_seconds: the real `studio demo` command end to end in a fresh studio home and Dagster home.

Goal: <= 300 s on 2 cores. Wall time on a shared machine says as much about the neighbours as about the
demo, so the CPU seconds the demo and its children used and the load average around it are recorded
beside it, and the demo's own per-step wall times (its demo-summary.json) are printed as the profile.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.results import record
from studio.db.embedded import stop_embedded_server

REPO = Path(__file__).resolve().parents[1]
STUDIO = Path(sys.executable).with_name("studio")  # the console script `pip install` made


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        home = Path(tmp) / "studio"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "DAGSTER_"))}
        env.update(STUDIO_HOME=str(home), DAGSTER_HOME=str(Path(tmp) / "dagster"))
        load_before = os.getloadavg()[0]
        cpu_before = _children_cpu_seconds()
        started = time.perf_counter()
        try:
            subprocess.run([str(STUDIO), "demo"], cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
            elapsed = time.perf_counter() - started
            cpu = _children_cpu_seconds() - cpu_before
            steps = json.loads((home / "demo-summary.json").read_text())["steps"]
        finally:
            stop_embedded_server(home / "pg")
    print("profile (wall seconds per step): "
          + ", ".join(f"{s['step']} {s['seconds']:.1f}" for s in steps), file=sys.stderr)
    record({"demo_seconds": round(elapsed, 2), "demo_cpu_seconds": round(cpu, 2),
            "demo_load_avg_1m": round((load_before + os.getloadavg()[0]) / 2, 2)})


if __name__ == "__main__":
    main()
