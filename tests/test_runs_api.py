"""`POST /api/runs` and `GET /api/runs/{id}` against a real dagster-webserver and dagster-daemon.

One webserver and one daemon serve the whole module (they take seconds to start): a fresh
DAGSTER_HOME from the repo's dagster.yaml, the example project imported into a database of its own,
its partitions added as the sync sensor would. The daemon is needed because Dagster's default run
coordinator queues launched runs until the daemon dequeues them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import httpx
import pytest

from api.app import create_app
from api.routers import runs
from resources.database import StudioDatabase
from studio.cli import main as studio
from studio.settings import load_settings
from studio.dagster_home import initialize_pools
from studio.demo import sync_partitions
from tests.api_server import serve_api, with_routers
from tests.conftest import EXAMPLE_SPEC, REPO, TEMPLATE_DB, _create_database

BIN = Path(sys.executable).parent
STARTUP_TIMEOUT_S = 60
RUN_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    # Own session: stopping the process group also stops the code server and run workers it spawned.
    return subprocess.Popen(args, cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _wait_for_code_location(graphql_url: str, webserver: subprocess.Popen, log: Path) -> None:
    query = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if webserver.poll() is not None:
            pytest.fail(f"dagster-webserver exited:\n{log.read_text()[-3000:]}")
        try:
            entries = httpx.post(graphql_url, json={"query": query}, timeout=2).json()["data"]["workspaceOrError"]
            if entries.get("locationEntries") and all(e["loadStatus"] == "LOADED" for e in entries["locationEntries"]):
                return
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            pass
        time.sleep(0.25)
    pytest.fail(f"dagster-webserver did not load the code location:\n{log.read_text()[-3000:]}")


def dagster_home_env(pg_server_url: str, work: Path) -> tuple[str, Path, dict]:
    """A studio database, a Dagster home with the repo's dagster.yaml, and the environment that points at
    both, for the real webserver and daemon processes a test starts."""
    db_url = _create_database(pg_server_url, TEMPLATE_DB)
    home = work / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "STUDIO_HOME": str(work / "studio_home"),
           "STUDIO_DATABASE_URL": db_url, "STUDIO_BACKEND": "preview"}
    env.pop("STUDIO_VAULT_ADDR", None)
    # One schema creation before several processes open the home (a fresh SQLite home races).
    subprocess.run([BIN / "dagster", "instance", "migrate"], cwd=REPO, env=env, check=True, capture_output=True)
    return db_url, home, env


@pytest.fixture(scope="module")
def dagster_graphql_url(pg_server_url, tmp_path_factory):
    work = tmp_path_factory.mktemp("runs_api")
    db_url, home, env = dagster_home_env(pg_server_url, work)

    port = _free_port()
    webserver_log, daemon_log = work / "webserver.log", work / "daemon.log"
    webserver = _start([BIN / "dagster-webserver", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                       env, webserver_log)
    daemon = _start([BIN / "dagster-daemon", "run", "-w", "workspace.yaml"], env, daemon_log)
    try:
        with pytest.MonkeyPatch.context() as patch:
            for key in ("DAGSTER_HOME", "STUDIO_HOME", "STUDIO_DATABASE_URL", "STUDIO_BACKEND"):
                patch.setenv(key, env[key])
            patch.delenv("STUDIO_VAULT_ADDR", raising=False)
            assert studio(["import", str(EXAMPLE_SPEC)]) == 0
            from anime_assets.definitions import defs

            defs_here = dg.Definitions(assets=defs.assets, jobs=defs.jobs, sensors=defs.sensors,
                                       resources={**defs.resources, "database": StudioDatabase(url=db_url)})
            with dg.DagsterInstance.from_config(str(home)) as instance:
                initialize_pools(instance)
                sync_partitions(defs_here, instance)
        graphql_url = f"http://127.0.0.1:{port}/graphql"
        _wait_for_code_location(graphql_url, webserver, webserver_log)
        yield graphql_url
    finally:
        _stop(daemon)
        _stop(webserver)


@pytest.fixture(scope="module")
def api_url(dagster_graphql_url, pg_server_url, tmp_path_factory):
    db_url = _create_database(pg_server_url, TEMPLATE_DB)
    settings = load_settings({"STUDIO_HOME": str(tmp_path_factory.mktemp("api_home")), "STUDIO_BACKEND": "preview"})
    app = with_routers(create_app(settings.with_values(dagster_graphql_url=dagster_graphql_url), database_url=db_url),
                       runs.router)
    with serve_api(app) as url:
        yield url


def _wait_until_finished(api_url: str, run_id: str) -> tuple[dict, set[str]]:
    seen = set()
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        response = httpx.get(f"{api_url}/api/runs/{run_id}")
        assert response.status_code == 200, response.text
        run = response.json()
        seen.add(run["status"])
        if run["finished"]:
            return run, seen
        time.sleep(0.25)
    pytest.fail(f"run {run_id} not finished after {RUN_TIMEOUT_S}s (statuses seen: {sorted(seen)})")


def test_launch_one_partition_and_follow_it_to_success(api_url):
    response = httpx.post(f"{api_url}/api/runs", json={"asset": "characters", "partition": "mika"})
    assert response.status_code == 202, response.text
    run_id = response.json()["run_id"]

    run, seen = _wait_until_finished(api_url, run_id)
    assert run["status"] == "SUCCESS", run
    assert run["job"] == "characters_job"
    assert run["assets"] == ["characters"] and run["partition"] == "mika"
    assert run["start_time"] <= run["end_time"]
    [step] = run["steps"]
    assert step["key"] == "characters" and step["status"] == "SUCCESS"
    assert run["start_time"] <= step["start_time"] <= step["end_time"] <= run["end_time"]
    assert seen & {"QUEUED", "STARTING", "STARTED", "NOT_STARTED"}, seen  # followed, not just read at the end


def test_unknown_asset_is_404(api_url):
    response = httpx.post(f"{api_url}/api/runs", json={"asset": "no_such_asset", "partition": "mika"})
    assert response.status_code == 404
    assert response.json()["detail"] == "asset 'no_such_asset' is not defined in any Dagster code location"


def test_unknown_partition_is_409_naming_the_field(api_url):
    response = httpx.post(f"{api_url}/api/runs", json={"asset": "characters", "partition": "nobody"})
    # Well-formed, but Dagster has no such partition (yet): a clash with stored state, not a bad shape.
    assert response.status_code == 409
    assert response.json() == {"detail": "asset 'characters' has no partition 'nobody'", "loc": ["body", "partition"]}


def test_unknown_run_is_404_and_missing_fields_are_422(api_url):
    response = httpx.get(f"{api_url}/api/runs/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]
    assert httpx.post(f"{api_url}/api/runs", json={"asset": "characters"}).status_code == 422


def test_dagster_unreachable_is_503(pg_server_url, tmp_path):
    db_url = _create_database(pg_server_url, TEMPLATE_DB)
    settings = load_settings({"STUDIO_HOME": str(tmp_path), "STUDIO_BACKEND": "preview"})
    graphql_url = f"http://127.0.0.1:{_free_port()}/graphql"
    app = with_routers(create_app(settings.with_values(dagster_graphql_url=graphql_url), database_url=db_url), runs.router)
    with serve_api(app) as url:
        launch = httpx.post(f"{url}/api/runs", json={"asset": "characters", "partition": "mika"})
        status = httpx.get(f"{url}/api/runs/some-run")
    assert launch.status_code == status.status_code == 503
    assert launch.json()["detail"] == f"Dagster webserver at {graphql_url} is unreachable (ConnectError)"


def test_asset_without_a_job_of_its_own_runs_in_the_implicit_asset_job(api_url):
    # dataset_images shares dataset_batch_job with approved_images: the run must materialize it alone.
    response = httpx.post(f"{api_url}/api/runs", json={"asset": "dataset_images", "partition": "ember"})
    assert response.status_code == 202, response.text
    run, _ = _wait_until_finished(api_url, response.json()["run_id"])
    assert run["status"] == "SUCCESS", run
    assert run["job"] == "__ASSET_JOB" and run["assets"] == ["dataset_images"]
    assert [step["key"] for step in run["steps"]] == ["dataset_images"]
