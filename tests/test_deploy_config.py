"""The production layout of deploy/: its Dagster instance loads for real, and its files agree.

The instance is built from deploy/dagster.yaml as the webserver and daemon would build it, with its
storage pointed at the suite's PostgreSQL through the same environment variable. No Docker daemon is
needed: the run launcher talks to Docker only when it launches a run.
"""

import shutil
import subprocess
import sys

import dagster as dg
import pytest
import yaml
from dagster._core.storage.dagster_run import DagsterRunStatus
from dagster_docker import DockerRunLauncher

from sensors.dead_run_sensor import reap_dead_runs
from studio.dagster_home import initialize_pools
from tests.conftest import REPO, _create_database

DEPLOY = REPO / "deploy"


def _yaml(name: str) -> dict:
    return yaml.safe_load((DEPLOY / name).read_text())


def _comfyui_urls() -> list[str]:
    """The GPU boxes the example environment lists (deploy/.env.example)."""
    lines = (DEPLOY / ".env.example").read_text().splitlines()
    [value] = [line.split("=", 1)[1] for line in lines if line.startswith("STUDIO_COMFYUI_URLS=")]
    return value.split(",")


@pytest.fixture
def production_instance(tmp_path, pg_server_url, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    url = _create_database(pg_server_url, None).replace("postgresql://", "postgresql+psycopg2://", 1)
    monkeypatch.setenv("DAGSTER_PG_URL", url)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance


@dg.asset
def probe() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"written": True})


def test_the_production_instance_launches_runs_in_docker_and_queues_them(production_instance):
    launcher = production_instance.run_launcher
    assert isinstance(launcher, DockerRunLauncher)
    assert launcher.networks == [_yaml("docker-compose.yaml")["networks"]["studio"]["name"]]
    assert type(production_instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    assert production_instance.run_monitoring_enabled
    assert production_instance.run_monitoring_settings["max_resume_run_attempts"] == 0


def test_the_gpu_pool_has_one_slot_per_gpu_box_and_storage_is_postgres(production_instance):
    initialize_pools(production_instance)  # as `studio dagster-init` does in the compose file's init service
    assert production_instance.event_log_storage.get_concurrency_info("gpu").slot_count == len(_comfyui_urls()) == 2
    assert type(production_instance.run_storage).__name__ == "PostgresRunStorage"
    # Dagster's tables, with the pool claims made one at a time (tests/test_dagster_storage.py).
    assert type(production_instance.event_log_storage).__name__ == "PoolSerializedEventLogStorage"
    result = dg.materialize([probe], instance=production_instance)
    assert result.success
    # Written to PostgreSQL and read back through the same instance: the run and its materialization.
    assert production_instance.get_run_record_by_id(result.run_id).dagster_run.is_success
    [record] = production_instance.fetch_materializations(dg.AssetKey("probe"), limit=5).records
    assert record.run_id == result.run_id


def test_the_single_box_config_keeps_the_same_storage_queue_and_monitoring():
    """deploy/dagster.postgres.yaml (one GPU box, runs as processes) differs only in launcher and pool."""
    production, single_box = _yaml("dagster.yaml"), _yaml("dagster.postgres.yaml")
    assert single_box["storage"] == production["storage"]
    assert single_box["run_coordinator"]["class"] == production["run_coordinator"]["class"]
    assert "run_launcher" not in single_box and single_box["concurrency"]["pools"]["default_limit"] == 1
    shared = set(single_box["run_monitoring"]) & set(production["run_monitoring"])
    assert shared >= {"enabled", "start_timeout_seconds", "free_slots_after_run_end_seconds"}
    assert {k: single_box["run_monitoring"][k] for k in shared} == {k: production["run_monitoring"][k] for k in shared}


def test_compose_workspace_and_instance_agree_and_hold_no_secret():
    compose, workspace, instance = _yaml("docker-compose.yaml"), _yaml("workspace.yaml"), _yaml("dagster.yaml")
    [location] = workspace["load_from"]
    server = location["grpc_server"]
    assert server["host"] in compose["services"]
    assert str(server["port"]) in (DEPLOY / "Dockerfile").read_text()
    # Every run container sees what the services see, and nothing the daemon lacks: Dagster refuses
    # to launch a run when a listed variable is unset.
    studio_env = compose["x-studio-env"]
    assert set(studio_env) == set(instance["run_launcher"]["config"]["env_vars"])
    assert all(compose["services"][s]["environment"] == studio_env for s in ("daemon", "webserver"))
    assert compose["services"]["user_code"]["environment"]["DAGSTER_CURRENT_IMAGE"] == "${STUDIO_IMAGE}"
    # Passwords only as ${VARIABLES} from deploy/.env, which git ignores; the example leaves them empty.
    for key in ("DAGSTER_PG_URL", "STUDIO_DATABASE_URL"):
        assert "${" in studio_env[key] and ":${" in studio_env[key].split("@")[0]
    example = dict(line.split("=", 1) for line in (DEPLOY / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    assert all(example[k] == "" for k in example if "PASSWORD" in k or "TOKEN" in k or "SECRET" in k)
    assert ".env" in (DEPLOY / ".gitignore").read_text().split()


# A run worker that dies inside its GPU step, holding the slot: seen from here, its pid is a dead process.
DYING_WORKER = """
import os, sys
import dagster as dg

@dg.asset(pool="gpu")
def render(context):
    print(context.run_id, flush=True)
    os._exit(1)

with dg.DagsterInstance.from_config(sys.argv[1]) as instance:
    dg.materialize([render], instance=instance)
"""


def test_the_dead_run_sensor_leaves_container_runs_to_run_monitoring(production_instance, tmp_path):
    """Run workers live in other containers: a pid this process cannot see is no sign of death there."""
    initialize_pools(production_instance)
    died = subprocess.run([sys.executable, "-c", DYING_WORKER, production_instance.root_directory],
                          timeout=120, capture_output=True, text=True)
    assert died.returncode == 1, died.stderr[-2000:]
    run_id = died.stdout.split()[-1]
    assert production_instance.event_log_storage.get_concurrency_info("gpu").claimed_slots
    assert reap_dead_runs(production_instance) == []
    assert production_instance.get_run_by_id(run_id).status == DagsterRunStatus.STARTED
    # Control: the same storage under the default launcher (one box, runs as local processes) reaps it.
    local = tmp_path / "local_home"
    local.mkdir()
    config = _yaml("dagster.yaml")
    del config["run_launcher"]
    (local / "dagster.yaml").write_text(yaml.safe_dump(config))
    with dg.DagsterInstance.from_config(str(local)) as instance:
        assert reap_dead_runs(instance) == [run_id]
