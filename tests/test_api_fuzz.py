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

The run is deterministic: the same requests in the same order, answered alike, every time (two runs
compared request by request; only what the server makes up differs: run ids, timestamps, multipart
boundaries). Generation is derandomized, schemathesis and the libraries it generates with are pinned
(pyproject.toml), and one worker sends the requests: with two, the order in which operations changed
the shared database decided what later requests found, and the fuzzer generates from what it finds
(some 300 of 4,900 requests differed between two runs, and with them which fields a run reached).
Each group of phases starts from the example world on a fresh database: run in one go, the coverage
phase (one worker, so every time) deletes the example project, and fuzzing and the stateful phase
after it would meet little but 404s.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from api.app import create_app
from studio.cli import main as studio
from studio.db.pool import connect
from studio.domain.shot_keys import shot_keys
from studio.settings import Settings, load_settings
from studio.spec.validation import load_spec
from tests.api_server import serve_api
from tests.conftest import EXAMPLE_SPEC
from tests.doubles.dagster_graphql import DagsterGraphQLDouble
from tests.doubles.echo import EchoDouble
from tests.review_seed import seed_image

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# About 4,900 requests over 106 operations: two and a half minutes on two cores shared with other test
# runs; hence the fault group. The coverage phase (every boundary of every parameter, unexpected
# methods) is the larger part (~3,900) and has no knob; fuzzing draws FUZZ_EXAMPLES cases per
# operation (~770), the stateful phase walks up to 40 scenarios of linked calls (CONFIG).
TIME_BUDGET_S = 480
FUZZ_EXAMPLES = 8
PHASE_GROUPS = ("examples,coverage", "fuzzing", "stateful")
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
"""


# Half the time a path names something the example holds, so fuzzing reaches past the 404. A {slug}
# names any kind of thing; the other names take only their own kind (path parameter -> dictionary).
PATH_DICTIONARIES = {"slug": "example", "project": "project", "character": "character", "style": "style",
                     "scene": "scene", "episode": "episode", "key": "shot"}


def _config() -> str:
    """CONFIG with a dictionary of the example's own names for each kind of path parameter."""
    spec = load_spec(EXAMPLE_SPEC)
    names = {"project": [spec.project.slug], "character": [c.slug for c in spec.characters],
             "style": [spec.style.slug], "scene": [s.slug for s in spec.scenes],
             "episode": [e.slug for e in spec.episodes]}
    names["example"] = [slug for slugs in names.values() for slug in slugs]
    names["shot"] = [key for scene in spec.scenes for key in shot_keys((s.key, s.description) for s in scene.shots)]
    dictionaries = "".join(f"[dictionaries.{kind}]\nvalues = {json.dumps(values)}\n" for kind, values in names.items())
    parameters = "".join(f'"path.{name}" = {{ dictionary = "{kind}", probability = 0.5 }}\n'
                         for name, kind in PATH_DICTIONARIES.items())
    return f"{CONFIG}\n{dictionaries}\n[parameters]\n{parameters}"


async def _seed_images(db_url: str, media: Path) -> None:
    async with connect(db_url) as conn:
        mika = await conn.fetchval("SELECT id FROM characters WHERE slug = 'mika'")
        for n in range(1, 6):
            await seed_image(conn, media, mika, n, status="pending" if n < 4 else "approved")


def _example_world(db_url: str, home: Path, monkeypatch) -> Settings:
    """The example imported into a fresh database under its own studio home, with images to review."""
    monkeypatch.setenv("STUDIO_HOME", str(home))
    monkeypatch.setenv("STUDIO_DATABASE_URL", db_url)
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    settings = load_settings()
    asyncio.run(_seed_images(db_url, settings.media_root))
    return settings


@pytest.mark.fault  # minutes of fuzzing: run with the slow group
@pytest.mark.timeout(TIME_BUDGET_S + 60)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(studio_env, new_db_url, tmp_path, monkeypatch):
    (tmp_path / "schemathesis.toml").write_text(_config())
    deadline = time.monotonic() + TIME_BUDGET_S
    with EchoDouble() as echo, DagsterGraphQLDouble(DAGSTER_ASSETS, jobs=DAGSTER_JOBS) as dagster:
        for n, phases in enumerate(PHASE_GROUPS):
            db_url = new_db_url()
            settings = _example_world(db_url, tmp_path / f"home-{n}", monkeypatch).with_values(
                echo_url=echo.url, dagster_graphql_url=dagster.graphql_url)
            report = tmp_path / f"schemathesis-{n}.txt"
            with serve_api(create_app(settings, database_url=db_url)) as url, report.open("w") as out:
                run = subprocess.run(
                    [str(SCHEMATHESIS), "run", f"{url}/openapi.json", "--checks", "all",
                     "--phases", phases, "--max-examples", str(FUZZ_EXAMPLES),
                     "--workers", "1", "--request-timeout", "10",
                     "--generation-deterministic", "--no-color",
                     # NUL and lone surrogates are refused for every string (tests/test_api_hardening.py); JSON
                     # text is UTF-8, which cannot carry a lone surrogate.
                     "--generation-allow-x00", "false", "--generation-codec", "utf-8"],
                    env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz_images",
                         "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
                    stdout=out, stderr=subprocess.STDOUT, timeout=max(1, deadline - time.monotonic()),
                    cwd=tmp_path, check=False)
            text = report.read_text()
            assert run.returncode == 0, f"phases {phases}:\n{text[-8000:]}"
            assert "Tested: " in text and "Selected: " in text, text[-2000:]
        launched = len(dagster.launched)
    assert launched, "no run trigger reached the Dagster double: their 202 answers were never checked"
