"""demo_seconds: `studio demo` end to end in a fresh studio home (embedded PostgreSQL included)."""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.results import record
from studio.db.embedded import stop_embedded_server

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "DAGSTER_HOME"))}
        env["STUDIO_HOME"] = home
        started = time.perf_counter()
        try:
            subprocess.run([sys.executable, "-m", "studio.cli", "demo"], cwd=REPO, env=env, check=True,
                           stdout=subprocess.DEVNULL)
            elapsed = time.perf_counter() - started
        finally:
            stop_embedded_server(Path(home) / "pg")
    record({"demo_seconds": round(elapsed, 2)})


if __name__ == "__main__":
    main()
