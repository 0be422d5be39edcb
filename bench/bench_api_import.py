"""api_import_s: a fresh process imports the review service and builds its app (goal <= 0.5 s).

What `studio serve` pays before it can answer, and what every API worker holds in memory: the
service imports no Dagster (tests/test_settings.py), so this is FastAPI, pydantic and our routers.
"""

import statistics

from bench.bench_code_location import fresh_process_seconds
from bench.results import record

PROBE = """
import time
t0 = time.perf_counter()
from api.app import create_app
create_app()
print(time.perf_counter() - t0)
"""


def main(runs: int = 7) -> None:
    record({"api_import_s": round(statistics.median(fresh_process_seconds(PROBE, runs)), 3)})


if __name__ == "__main__":
    main()
