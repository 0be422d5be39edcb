"""A dataset batch launched as a named job through the runs API, followed while it runs: done/total,
the current step and an ETA; the run is tagged origin "api" and found by the list's filters; a run
launched while the daemon is down says why it waits."""

from __future__ import annotations

import time

import dagster as dg
import httpx
import pytest

from api.app import create_app
from api.routers import runs
from resources.database import StudioDatabase
from studio.cli import main as studio
from studio.dagster_home import initialize_pools
from studio.demo import sync_partitions
from studio.settings import load_settings
from tests.api_server import serve_api, with_routers
from tests.conftest import EXAMPLE_SPEC
from tests.test_dataset_batch import fetch
from tests.test_runs_api import BIN, _free_port, _start, _stop, _wait_for_code_location, dagster_home_env

BATCH = 40


@pytest.fixture(scope="module")
def world(pg_server_url, tmp_path_factory):
    work = tmp_path_factory.mktemp("runs_progress")
    db_url, home, env = dagster_home_env(pg_server_url, work)
    port = _free_port()
    webserver = _start([BIN / "dagster-webserver", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                       env, work / "webserver.log")
    daemon = None
    try:
        with pytest.MonkeyPatch.context() as patch:
            for key in ("DAGSTER_HOME", "STUDIO_HOME", "STUDIO_DATABASE_URL", "STUDIO_BACKEND"):
                patch.setenv(key, env[key])
            patch.delenv("STUDIO_VAULT_ADDR", raising=False)
            assert studio(["import", str(EXAMPLE_SPEC)]) == 0
            fetch(db_url, "UPDATE characters SET target_images = 500 RETURNING id")
            from anime_assets.definitions import defs

            defs_here = dg.Definitions(assets=defs.assets, jobs=defs.jobs, sensors=defs.sensors,
                                       resources={**defs.resources, "database": StudioDatabase(url=db_url)})
            with dg.DagsterInstance.from_config(str(home)) as instance:
                initialize_pools(instance)
                sync_partitions(defs_here, instance)
        graphql_url = f"http://127.0.0.1:{port}/graphql"
        _wait_for_code_location(graphql_url, webserver, work / "webserver.log")
        settings = load_settings({"STUDIO_HOME": str(work / "api_home"), "STUDIO_BACKEND": "preview"})
        app = with_routers(create_app(settings.with_values(dagster_graphql_url=graphql_url), database_url=db_url),
                           runs.router)
        with serve_api(app) as api_url:
            def start_daemon():
                nonlocal daemon
                daemon = _start([BIN / "dagster-daemon", "run", "-w", "workspace.yaml"], env, work / "daemon.log")
            yield api_url, start_daemon
    finally:
        if daemon is not None:
            _stop(daemon)
        _stop(webserver)


def test_a_batch_job_shows_progress_origin_and_is_listed(world):
    api_url, start_daemon = world
    config = {"ops": {"dataset_images": {"config": {"count": BATCH, "queue_depth": 1}}}}
    launch = httpx.post(f"{api_url}/api/runs", json={"job": "dataset_batch_job", "partition": "mika", "config": config})
    assert launch.status_code == 202, launch.text
    run_id = launch.json()["run_id"]
    # No daemon yet: the run waits in the queue, and both the launch and the status say why.
    assert "the Dagster daemon is not running" in launch.json()["warning"]
    queued = httpx.get(f"{api_url}/api/runs/{run_id}").json()
    assert queued["status"] == "QUEUED" and "make daemon" in queued["warning"]
    start_daemon()

    seen_mid_batch = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run = httpx.get(f"{api_url}/api/runs/{run_id}").json()
        progress = {p["step"]: p for p in run["progress"]}.get("dataset_images")
        if progress and 0 < progress["done"] < progress["total"] and seen_mid_batch is None:
            seen_mid_batch = (run, progress)
        if run["finished"]:
            break
        time.sleep(0.1)
    assert run["status"] == "SUCCESS", run
    assert seen_mid_batch, "progress was never seen between the first and the last image"
    mid_run, mid = seen_mid_batch
    assert mid_run["current_step"] == "dataset_images" and mid["total"] == BATCH and mid["eta_s"] is not None
    assert mid["last_item"] in ("approved", "rejected", "pending", "duplicate", "failed")
    final = {p["step"]: p for p in run["progress"]}["dataset_images"]
    assert final["done"] == BATCH and final["eta_s"] == 0
    # The whole job ran: the approved set was re-counted too, and the run is the API's.
    assert {s["key"] for s in run["steps"]} == {"dataset_images", "approved_images"}
    assert run["origin"] == "api" and run["job"] == "dataset_batch_job"

    listed = httpx.get(f"{api_url}/api/runs", params={"job": "dataset_batch_job", "origin": "api",
                                                      "status": "SUCCESS", "partition": "mika"}).json()
    assert [r["run_id"] for r in listed] == [run_id]
    # The replenishment sensor (RUNNING) may have started batches of its own: listed as the sensor's.
    by_sensor = httpx.get(f"{api_url}/api/runs", params={"origin": "sensor", "job": "dataset_batch_job"}).json()
    assert all(r["origin"] == "sensor" and r["run_id"] != run_id for r in by_sensor)


def test_an_unknown_job_is_404_and_asset_plus_job_is_422(world):
    api_url, _ = world
    response = httpx.post(f"{api_url}/api/runs", json={"job": "no_such_job"})
    assert response.status_code == 404 and "no_such_job" in response.json()["detail"]
    assert httpx.post(f"{api_url}/api/runs", json={"job": "x", "asset": "y", "partition": "z"}).status_code == 422
