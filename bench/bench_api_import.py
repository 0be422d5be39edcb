"""api_import_s: a fresh process imports the review service and builds its app (goal <= 0.5 s).

What `studio serve` pays before it can answer, and what every API worker holds in memory: the
service imports no Dagster (tests/test_settings.py), so this is FastAPI, pydantic and our routers.

`api_first_answer_s` goes on to the first answer: the app answers one request (the liveness route,
which needs no database) through all its middleware, in the same fresh process, so a cost moved from
the build to the first request shows. The start-up's database pool is not part of it.

Routes are built on their first use (api/lazy_route.py) and answer models on theirs
(api/schemas/base.py). `api_all_routes_s` goes on to build every route, as writing the OpenAPI
document does: what start-up cost when every route was built as it was declared.

`api_import_floor_s` is the same for a FastAPI app of one route with one pydantic model, on the same
machine in the same minute: what FastAPI itself costs before any of our code, so that
`api_import_s` can be read against it. The probes run in turn, one of each per round, so a drift in
the machine's speed moves them alike; `api_import_over_floor_s` is the median of the rounds' differences.
"""

import statistics

from bench.bench_code_location import fresh_processes_seconds
from bench.results import record

PROBE = """
import time
t0 = time.perf_counter()
from api.app import create_app
create_app()
print(time.perf_counter() - t0)
"""

FIRST_ANSWER_PROBE = """
import time
t0 = time.perf_counter()
import asyncio
from api.app import create_app
from bench.asgi_get import asgi_get
app = create_app()
assert asyncio.run(asgi_get(app, "/api/health/live")) == 200
print(time.perf_counter() - t0)
"""

ALL_ROUTES_PROBE = """
import time
t0 = time.perf_counter()
from api.app import create_app
from api.lazy_route import LazyAPIRoute
app = create_app()
for route in app.routes:
    if isinstance(route, LazyAPIRoute):
        route.dependant
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
    timings = fresh_processes_seconds({"floor": FLOOR_PROBE, "app": PROBE, "first_answer": FIRST_ANSWER_PROBE,
                                       "all_routes": ALL_ROUTES_PROBE}, runs)
    median = {name: statistics.median(values) for name, values in timings.items()}
    over_floor = statistics.median(app - floor for app, floor in zip(timings["app"], timings["floor"]))
    record({"api_import_s": round(median["app"], 3), "api_import_floor_s": round(median["floor"], 3),
            "api_import_over_floor_s": round(over_floor, 3),
            "api_first_answer_s": round(median["first_answer"], 3), "api_all_routes_s": round(median["all_routes"], 3)})


if __name__ == "__main__":
    main()
