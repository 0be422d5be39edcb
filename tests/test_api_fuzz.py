"""Schemathesis over the whole review service: every check, examples, coverage, fuzzing and the
stateful phase, against the app served by uvicorn on the real database with real data.
One check is left out, positive_data_acceptance: a request can match the schema and still name a
character, scene or shot that does not exist, which is a 422 naming the field, not a 2xx.
NUL and lone surrogates are not generated: every route refuses them before any model sees them, and
tests/test_api_hardening.py proves it.

The run fails on any 5xx, any answer its OpenAPI document does not declare, any response that does
not match its schema. Routes that start Dagster runs are left out: they need a Dagster webserver (a
30 s start, tests/test_runs_api.py has one) and without it answer their documented 503.
Echo answers from its double, so the chat routes are fuzzed too.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from api.app import create_app
from studio.db.pool import connect
from studio.settings import settings_for
from tests.api_server import serve_api
from tests.doubles.echo import EchoDouble
from tests.review_seed import seed_character, seed_image, seed_project, studio_settings

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
TIME_BUDGET_S = 45
# Run triggers need a Dagster webserver (episode assemble and publish too); training, autonomy, scene
# proposals and shot rendering join this run when their schemas are settled.
EXCLUDED = ("^/api/(runs|training|autonomy|scene-proposals|projects/[^/]+/scene-proposals"
            "|scenes/[^/]+/shots/[^/]+/(render|rerender|clip|frames)|episodes/[^/]+/(assemble|publish))")


async def _seed(db_url: str, media: Path) -> None:
    async with connect(db_url) as conn:
        project = await seed_project(conn)
        mika = await seed_character(conn, project, "mika")
        for n in range(1, 6):
            await seed_image(conn, media, mika, n, status="pending" if n < 4 else "approved")


# Stateful testing links a new project to the documents hanging off it; those exist only once PUT,
# so their 404 right after the project is created is the documented answer, not a lost resource.
# A schema-violating body can also be too large: its 413 (declared on every write) is a refusal too.
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]

[[operations]]
include-path-regex = "^/api/projects/[{]slug[}]/(storyline|world)$"
include-method = "GET"
checks.ensure_resource_availability.enabled = false
"""


def test_schemathesis_finds_no_server_error_and_no_schema_violation(db_url, tmp_path):
    home = tmp_path / "home"
    (tmp_path / "schemathesis.toml").write_text(CONFIG)
    asyncio.run(_seed(db_url, home / "media"))
    with EchoDouble() as echo:
        settings = studio_settings(home, base=settings_for(echo_url=echo.url))
        with serve_api(create_app(settings, database_url=db_url)) as url:
            run = subprocess.run(
                [str(SCHEMATHESIS), "run", f"{url}/openapi.json", "--checks", "all",
                 # The stateful phase follows links without the per-operation settings of CONFIG: the
                 # only resources a create links to are the storyline and world documents, 404 until PUT.
                 "--exclude-checks", "positive_data_acceptance,ensure_resource_availability",
                 "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", "15",
                 "--max-time", str(TIME_BUDGET_S), "--workers", "2", "--seed", "14",
                 "--exclude-path-regex", EXCLUDED, "--request-timeout", "10",
                 "--generation-deterministic", "--no-color",
                 # NUL and lone surrogates are refused for every string (tests/test_api_hardening.py); JSON
                 # text is UTF-8, which cannot carry a lone surrogate.
                 "--generation-allow-x00", "false", "--generation-codec", "utf-8"],
                capture_output=True, text=True, timeout=TIME_BUDGET_S + 60, cwd=tmp_path, check=False)
    (tmp_path / "schemathesis.txt").write_text(run.stdout)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
