"""api_import_s: a fresh process imports the review service and builds its app (goal <= 0.5 s).

What `studio serve` pays before it can answer, and what every API worker holds in memory: the
service imports no Dagster (tests/test_settings.py), so this is FastAPI, pydantic and our routers.
"""

import statistics
import subprocess
import sys
from pathlib import Path

from bench.results import record

REPO = Path(__file__).resolve().parents[1]
PROBE = """
import time
t0 = time.perf_counter()
from api.app import create_app
create_app()
print(time.perf_counter() - t0)
"""


def main(runs: int = 7) -> None:
    timings = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=REPO, check=True)
        timings.append(float(out.stdout.strip().splitlines()[-1]))
    record({"api_import_s": round(statistics.median(timings), 3)})


if __name__ == "__main__":
    main()
