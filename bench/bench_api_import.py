"""api_import_s: a fresh process imports the review service and builds its app (goal <= 0.5 s).

What `studio serve` pays before it can answer, and what every API worker holds in memory: the
service imports no Dagster (tests/test_settings.py), so this is FastAPI, pydantic and our routers.

`api_import_floor_s` is the same for a FastAPI app of one route with one pydantic model, on the same
machine in the same minute: what FastAPI itself costs before any of our code, so that
`api_import_s` can be read against it.
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

FLOOR_PROBE = """
import time
t0 = time.perf_counter()
from fastapi import FastAPI
from pydantic import BaseModel

class Answer(BaseModel):
    ok: bool

app = FastAPI()

@app.get("/ok")
async def ok() -> Answer:
    return Answer(ok=True)

print(time.perf_counter() - t0)
"""


def main(runs: int = 7) -> None:
    floor = statistics.median(fresh_process_seconds(FLOOR_PROBE, runs))
    app = statistics.median(fresh_process_seconds(PROBE, runs))
    record({"api_import_s": round(app, 3), "api_import_floor_s": round(floor, 3)})


if __name__ == "__main__":
    main()
