"""Schemathesis over the whole review service: every check (positive data acceptance and resource
availability included), examples, coverage, fuzzing and the stateful phase, every route, against the
app served by uvicorn on the real database with the example project imported and images seeded.

The run fails on any 5xx, any answer its OpenAPI document does not declare, any response that does
not match its schema, a valid request refused or an invalid one accepted. A request that keeps every
rule of the schema but clashes with the stored data (names a character the project lacks) is a 409
naming the field, not a 422 (api/errors.py).
Run triggers reach a Dagster webserver double that answers GraphQL as dagster-graphql 1.13 does
(tests/doubles/dagster_graphql.py); Echo answers from its double. Upload parts are real PNG, JPEG
and WebP images (tests/fuzz_images.py), as the document's multipart encoding says.
NUL and lone surrogates are not generated: every route refuses them before any model sees them, and
tests/test_api_hardening.py proves it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from api.app import create_app
from studio.cli import main as studio
from studio.db.pool import connect
from studio.settings import load_settings
from tests.api_server import serve_api
from tests.conftest import EXAMPLE_SPEC
from tests.doubles.dagster_graphql import DagsterGraphQLDouble
from tests.doubles.echo import EchoDouble
from tests.review_seed import seed_image

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# About 5,000 requests: two minutes on two cores shared with other test runs (load 3 to 9), five
# under a load of 12; hence the fault group. The coverage phase (every boundary of every parameter, unexpected methods) is the
# larger half and has no knob; fuzzing draws FUZZ_EXAMPLES cases per operation, the stateful phase
# walks 40 scenarios of linked calls (CONFIG).
TIME_BUDGET_S = 480
FUZZ_EXAMPLES = 8
CHARACTERS = ["mika", "ember"]
EPISODES = ["lantern-harbor-e01"]
# What the example's code location would list: each partitioned asset with its partitions.
DAGSTER_ASSETS = {"characters": CHARACTERS, "dataset_images": CHARACTERS, "approved_images": CHARACTERS,
                  "lora_checkpoints": CHARACTERS, "episodes": EPISODES, "published_episodes": EPISODES}
DAGSTER_JOBS = ["dataset_batch_job", "training_job"]

# A body that breaks the schema can also be too large: its 413 (declared on every write) is a refusal too.
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]

[phases.stateful.generation]
max-examples = 40

# Half the time a path names something the example holds, so fuzzing reaches past the 404.
[dictionaries.example]
values = ["lantern-harbor", "soft-cel", "mika", "ember", "lamp-goes-out", "lantern-harbor-e01"]

[parameters]
"path.slug" = { dictionary = "example", probability = 0.5 }
"path.project" = { dictionary = "example", probability = 0.5 }
"path.character" = { dictionary = "example", probability = 0.5 }
"path.style" = { dictionary = "example", probability = 0.5 }
"path.scene" = { dictionary = "example", probability = 0.5 }
"path.episode" = { dictionary = "example", probability = 0.5 }
"""


async def _seed_images(db_url: str, media: Path) -> None:
    async with connect(db_url) as conn:
        mika = await conn.fetchval("SELECT id FROM characters WHERE slug = 'mika'")
        for n in range(1, 6):
            await seed_image(conn, media, mika, n, status="pending" if n < 4 else "approved")


@pytest.mark.fault  # over a minute of fuzzing: run with the slow group
@pytest.mark.timeout(TIME_BUDGET_S + 60)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(studio_env, db_url, tmp_path):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    (tmp_path / "schemathesis.toml").write_text(CONFIG)
    report = tmp_path / "schemathesis.txt"
    with EchoDouble() as echo, DagsterGraphQLDouble(DAGSTER_ASSETS, jobs=DAGSTER_JOBS) as dagster:
        settings = load_settings().with_values(echo_url=echo.url, dagster_graphql_url=dagster.graphql_url)
        asyncio.run(_seed_images(db_url, settings.media_root))
        with serve_api(create_app(settings, database_url=db_url)) as url, report.open("w") as out:
            run = subprocess.run(
                [str(SCHEMATHESIS), "run", f"{url}/openapi.json", "--checks", "all",
                 "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", str(FUZZ_EXAMPLES),
                 "--workers", "2", "--request-timeout", "10",
                 "--generation-deterministic", "--no-color",
                 # NUL and lone surrogates are refused for every string (tests/test_api_hardening.py); JSON
                 # text is UTF-8, which cannot carry a lone surrogate.
                 "--generation-allow-x00", "false", "--generation-codec", "utf-8"],
                env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz_images",
                     "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
                stdout=out, stderr=subprocess.STDOUT, timeout=TIME_BUDGET_S, cwd=tmp_path, check=False)
        launched = len(dagster.launched)
    text = report.read_text()
    assert run.returncode == 0, text[-8000:]
    assert "Tested: " in text and "Selected: " in text
    assert launched, "no run trigger reached the Dagster double: their 202 answers were never checked"
