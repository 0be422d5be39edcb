"""A LoRA training started, followed and cancelled through the review service's training routes,
against a real dagster-webserver and dagster-daemon whose DAGSTER_HOME keeps its storage in PostgreSQL.

Slow (two service processes, two training runs): marked `fault`. The preview trainer's epochs are held
(STUDIO_PREVIEW_DELAY_S) so the second run is still training when it is cancelled.
"""

from __future__ import annotations

import os
import subprocess
import time

import dagster as dg
import httpx
import pytest

from api.app import create_app
from api.routers import training
from studio.dagster_home import initialize_pools
from studio.settings import load_settings
from tests.api_server import serve_api, with_routers
from tests.conftest import REPO, TEMPLATE_DB, _create_database
from tests.dagster_pg_home import dagster_home
from tests.test_runs_api import BIN, _free_port, _start, _stop, _wait_for_code_location
from tests.training_seed import query, ready_to_train

# Two service processes and two trainings on a loaded machine: more than the suite's 120 s per test.
pytestmark = [pytest.mark.fault, pytest.mark.timeout(480)]
RUN_TIMEOUT_S = 120

SENSORS_QUERY = "{ repositoriesOrError { ... on RepositoryConnection { nodes { sensors { id name } } } } }"
STOP_SENSOR = """mutation StopSensor($id: String) { stopSensor(id: $id) {
  __typename ... on StopSensorMutationResult { instigationState { status } } ... on PythonError { message } } }"""


def _stop_sensors(graphql_url: str) -> None:
    """The sensors run by default; stopped before the daemon starts, the only runs are the test's own
    (the training and replenishment sensors would otherwise queue theirs for the one gpu slot)."""
    repositories = httpx.post(graphql_url, json={"query": SENSORS_QUERY}, timeout=30).json()
    for sensor in repositories["data"]["repositoriesOrError"]["nodes"][0]["sensors"]:
        stopped = httpx.post(graphql_url, json={"query": STOP_SENSOR, "variables": {"id": sensor["id"]}},
                             timeout=30).json()["data"]["stopSensor"]
        assert stopped.get("instigationState", {}).get("status") == "STOPPED", (sensor["name"], stopped)


@pytest.fixture(scope="module")
def world(pg_server_url, tmp_path_factory):
    work = tmp_path_factory.mktemp("training_runs")
    db_url = _create_database(pg_server_url, TEMPLATE_DB)
    home, studio_home = dagster_home(work, pg_server_url), work / "studio_home"
    env = {**os.environ, "DAGSTER_HOME": str(home), "STUDIO_HOME": str(studio_home), "STUDIO_DATABASE_URL": db_url,
           "STUDIO_BACKEND": "preview", "STUDIO_PREVIEW_DELAY_S": "1.5"}
    env.pop("STUDIO_VAULT_ADDR", None)
    subprocess.run([BIN / "dagster", "instance", "migrate"], cwd=REPO, env=env, check=True, capture_output=True)
    with pytest.MonkeyPatch.context() as patch:
        for key in ("DAGSTER_HOME", "STUDIO_HOME", "STUDIO_DATABASE_URL", "STUDIO_BACKEND"):
            patch.setenv(key, env[key])
        patch.delenv("STUDIO_VAULT_ADDR", raising=False)
        ready_to_train(db_url, studio_home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        initialize_pools(instance)
        instance.add_dynamic_partitions("character", ["mika", "ember"])

    port = _free_port()
    webserver_log, daemon_log = work / "webserver.log", work / "daemon.log"
    webserver = _start([BIN / "dagster-webserver", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                       env, webserver_log)
    daemon = None
    try:
        graphql_url = f"http://127.0.0.1:{port}/graphql"
        _wait_for_code_location(graphql_url, webserver, webserver_log)
        _stop_sensors(graphql_url)
        daemon = _start([BIN / "dagster-daemon", "run", "-w", "workspace.yaml"], env, daemon_log)
        settings = load_settings({"STUDIO_HOME": str(studio_home), "STUDIO_BACKEND": "preview"})
        app = with_routers(create_app(settings.with_values(dagster_graphql_url=graphql_url), database_url=db_url),
                           training.router)
        with serve_api(app) as api:
            yield api, db_url, studio_home
    finally:
        if daemon is not None:
            _stop(daemon)
        _stop(webserver)


def _follow(api: str, run_id: str, until) -> dict:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        response = httpx.get(f"{api}/api/training/runs/{run_id}")
        assert response.status_code == 200, response.text
        run = response.json()
        if until(run):
            return run
        time.sleep(0.3)
    pytest.fail(f"training run {run_id}: not there after {RUN_TIMEOUT_S} s: {run}")


def _step(run: dict, key: str) -> str | None:
    return next((s["status"] for s in run["steps"] if s["key"] == key), None)


def test_start_follow_and_cancel_a_training(world):
    api, db_url, studio_home = world
    started = httpx.post(f"{api}/api/training/mika/runs")
    assert started.status_code == 202, started.text
    first = started.json()["run_id"]
    done = _follow(api, first, lambda run: run["finished"])
    assert done["status"] == "SUCCESS", done
    assert (done["job"], done["partition"], done["origin"]) == ("training_job", "mika", "api")
    assert [(s["key"], s["status"]) for s in done["steps"]] == [("training_dataset", "SUCCESS"),
                                                                ("lora_checkpoints", "SUCCESS")]
    status = httpx.get(f"{api}/api/training/mika").json()
    assert status["active"]["version"] == 1 and status["active"]["dagster_run_id"] == first
    assert httpx.post(f"{api}/api/training/runs/{first}/cancel").status_code == 409  # it has ended

    second = httpx.post(f"{api}/api/training/mika/runs").json()["run_id"]
    training_now = _follow(api, second, lambda run: _step(run, "lora_checkpoints") == "IN_PROGRESS")
    assert training_now["status"] == "STARTED"
    time.sleep(1.0)  # the trainer is in its first (held) epoch
    cancelled = httpx.post(f"{api}/api/training/runs/{second}/cancel")
    assert cancelled.status_code == 202 and cancelled.json()["status"] in ("CANCELING", "CANCELED"), cancelled.text
    ended = _follow(api, second, lambda run: run["finished"])
    assert ended["status"] == "CANCELED", ended
    # The training runs as the API lists them, newest first; the cancelled one left no row and no file.
    runs = httpx.get(f"{api}/api/training/mika/runs").json()
    assert [(r["run_id"], r["status"]) for r in runs] == [(second, "CANCELED"), (first, "SUCCESS")]
    assert [r["version"] for r in query(db_url, "SELECT version FROM lora_checkpoints")] == [1]
    left = sorted(p.relative_to(studio_home / "media" / "loras").as_posix()
                  for p in (studio_home / "media" / "loras").rglob("*") if p.is_file())
    assert left == ["mika/mika_v1.safetensors", *(f"mika/samples/v1_{i}.png" for i in range(3))]  # version 1 only


def test_unknown_or_other_runs_are_404_and_an_unknown_character_too(world):
    api, _, _ = world
    assert httpx.get(f"{api}/api/training/runs/00000000-0000-0000-0000-000000000000").status_code == 404
    assert httpx.post(f"{api}/api/training/runs/00000000-0000-0000-0000-000000000000/cancel").status_code == 404
    assert httpx.post(f"{api}/api/training/nobody/runs").status_code == 404
    assert httpx.get(f"{api}/api/training/nobody/runs").status_code == 404
