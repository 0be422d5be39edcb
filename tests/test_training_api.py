"""The training routes on the real app and a real database: status, history, active choice, download;
run triggers answer clearly when Dagster is not there."""

import dagster as dg
import httpx
import pytest

from api.app import create_app
from api.routers import training
from studio.settings import load_settings
from tests.api_server import serve_api, with_routers
from tests.training_seed import add_approved, ready_to_train, train


@pytest.fixture
def trained(studio_env, db_url):
    ready_to_train(db_url, studio_env)
    with dg.instance_for_test() as instance:
        assert train(instance, db_url, studio_env).success
        assert train(instance, db_url, studio_env).success
    return studio_env


def test_status_history_choice_and_download(trained, db_url):
    settings = load_settings().with_values(dagster_graphql_url="http://127.0.0.1:9/graphql")
    app = with_routers(create_app(settings, database_url=db_url), training.router)
    with serve_api(app) as base:
        status = httpx.get(f"{base}/api/training/mika").json()
        assert status["ready"] and not status["training_due"] and status["active"]["version"] == 1
        history = httpx.get(f"{base}/api/training/mika/checkpoints").json()
        assert [c["version"] for c in history] == [1, 2]
        assert history[0]["loss_curve"] and len(history[0]["sample_images"]) == 2
        assert all(s["score"] is not None for s in history[0]["sample_images"])
        chosen = httpx.put(f"{base}/api/training/mika/active", json={"version": 2}).json()
        assert chosen["is_active"] and httpx.get(f"{base}/api/training/mika").json()["active"]["version"] == 2
        assert httpx.put(f"{base}/api/training/mika/active", json={"version": 9}).status_code == 404
        assert httpx.put(f"{base}/api/training/mika/active", json={"version": 0}).status_code == 422
        download = httpx.get(f"{base}/api/training/mika/checkpoints/2/file")
        assert download.status_code == 200
        assert download.content == (trained / "media" / history[1]["file_path"]).read_bytes()
        assert httpx.get(f"{base}/api/training/nobody").status_code == 404
        started = httpx.post(f"{base}/api/training/mika/runs")
        assert started.status_code == 503 and "unreachable" in started.json()["detail"]
        assert httpx.post(f"{base}/api/training/runs/abc/cancel").status_code == 503
        add_approved(db_url, trained, "mika", 1, start=5)
        assert httpx.get(f"{base}/api/training/mika").json()["training_due"]
