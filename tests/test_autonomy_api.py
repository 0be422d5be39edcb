"""The autonomy routes on the real app served by uvicorn, against the real DB."""

import dagster as dg
import httpx
import pytest

from api.app import create_app
from api.routers import autonomy
from studio.cli import main as studio
from studio.settings import load_settings
from tests.api_server import serve_api, with_routers
from tests.autonomy_world import Ticker, add_images, on_conn, requested
from tests.conftest import EXAMPLE_SPEC


@pytest.fixture
def api(studio_env, db_url):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    app = with_routers(create_app(load_settings(), database_url=db_url), autonomy.router)
    with serve_api(app) as url:
        yield url


def test_status_pause_resume_and_the_decision_log(api, db_url):
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("character", ["mika", "ember"])
        ticker = Ticker(instance, db_url)
        ticker.tick()
        status = {s["character"]: s for s in httpx.get(f"{api}/api/autonomy/status").json()}
        assert status["mika"]["last_decision"]["action"] == "requested"
        assert status["mika"]["last_decision"]["guards"]["missing"] == 12 and not status["mika"]["paused"]
        assert httpx.post(f"{api}/api/autonomy/characters/mika/pause", json={"by": "alice"}).json()["paused"]
        ticker.tick()
        assert "mika" not in requested(ticker.tick())
        status = {s["character"]: s for s in httpx.get(f"{api}/api/autonomy/status").json()}
        assert status["mika"]["paused"] and status["mika"]["last_decision"]["code"] == "paused"
        httpx.post(f"{api}/api/autonomy/characters/mika/resume", json={"by": "alice"})
        assert not httpx.get(f"{api}/api/autonomy/status").json()[0]["paused"]
    assert httpx.post(f"{api}/api/autonomy/characters/nobody/pause").status_code == 404

    page = httpx.get(f"{api}/api/autonomy/decisions", params={"character": "mika", "limit": 2}).json()
    assert len(page["items"]) == 2 and page["next_before_id"] == page["items"][-1]["id"]
    rest = httpx.get(f"{api}/api/autonomy/decisions",
                     params={"character": "mika", "limit": 2, "before_id": page["next_before_id"]}).json()
    assert all(item["id"] < page["next_before_id"] for item in rest["items"])
    ids = [i["id"] for i in page["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    control = httpx.get(f"{api}/api/autonomy/decisions", params={"kind": "control"}).json()["items"]
    assert [c["action"] for c in control] == ["resumed", "paused"]


def test_project_settings_validate_and_persist(api):
    url = f"{api}/api/autonomy/projects/lantern-harbor/settings"
    assert httpx.get(url).json()["batch_size"] == 3
    changed = httpx.patch(url, json={"cooldown_seconds": 60, "pending_buffer": 4}).json()
    assert (changed["cooldown_seconds"], changed["pending_buffer"], changed["batch_size"]) == (60, 4, 3)
    assert httpx.get(url).json()["cooldown_seconds"] == 60
    bad = httpx.patch(url, json={"batch_size": 0})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "batch_size"
    assert httpx.patch(url, json={"colour": 1}).status_code == 422
    assert httpx.get(f"{api}/api/autonomy/projects/nope/settings").status_code == 404


def test_pins_learning_off_and_the_recommendation(api):
    url = f"{api}/api/autonomy/characters/mika"
    assert httpx.get(f"{url}/recommendation").json()["provenance"]["mode"] == "thompson"
    before = httpx.get(f"{url}/learning").json()
    assert (before["learning_enabled"], before["pins"]) == (True, {})
    assert 7.5 in before["candidates"]["cfg"] and 30 not in before["candidates"]["cfg"]
    assert before["candidates"]["resolution"][0] == "832x1216"  # the style's own value first
    bad = httpx.patch(f"{url}/learning", json={"pins": {"cfg": 30}})
    assert bad.status_code == 409 and "pins.cfg" in bad.json()["detail"]  # outside this style's bounds
    ok = httpx.patch(f"{url}/learning", json={"pins": {"cfg": 7.5}, "learning_enabled": False}).json()
    assert ok == {"character": "mika", "learning_enabled": False, "pins": {"cfg": 7.5}}
    after = httpx.get(f"{url}/learning").json()
    assert (after["learning_enabled"], after["pins"]) == (False, {"cfg": 7.5})
    assert httpx.get(f"{api}/api/autonomy/characters/nobody/learning").status_code == 404
    chosen = httpx.get(f"{url}/recommendation").json()
    assert chosen["cfg"] == 7.5 and chosen["steps"] == 28 and chosen["provenance"]["mode"] == "learning off"


def test_style_learning_bounds_set_through_the_story_api_are_what_learning_may_try(api, db_url):
    from api.schemas.story import StyleOut
    from studio.story.styles import update_style

    bounds = {"cfg": [7.0, 5.0], "steps": [20, 30], "samplers": ["dpmpp_2m"], "cfg_step": None,
              "resolutions": [{"width": 768, "height": 1152}]}  # as the PATCH route's model_dump() hands it on
    styled = on_conn(db_url, lambda conn: update_style(conn, "lantern-harbor", "soft-cel", {"learning_bounds": bounds}))
    # The style route answers the bounds as it takes them (a range low first).
    assert StyleOut.model_validate(styled).learning_bounds.model_dump(exclude_none=True) == {
        "cfg": [5.0, 7.0], "steps": [20, 30], "samplers": ["dpmpp_2m"], "resolutions": [{"width": 768, "height": 1152}]}
    candidates = httpx.get(f"{api}/api/autonomy/characters/mika/learning").json()["candidates"]
    assert candidates["cfg"] == [5.0, 6.0, 6.5, 7.0] and candidates["sampler"] == ["euler_ancestral", "dpmpp_2m"]  # the style's 6.5 too
    assert candidates["resolution"] == ["832x1216", "768x1152"] and min(candidates["steps"]) >= 20
    assert httpx.get(f"{api}/api/autonomy/characters/mika/recommendation").status_code == 200
    cleared = on_conn(db_url, lambda conn: update_style(conn, "lantern-harbor", "soft-cel", {"learning_bounds": None}))
    assert cleared["learning_bounds"] is None
    assert 7.5 in httpx.get(f"{api}/api/autonomy/characters/mika/learning").json()["candidates"]["cfg"]


def test_drift_learning_strategies_and_event_stats(api, db_url):
    add_images(db_url, "mika", ["approved"] * 40 + ["rejected"] * 4, decided_by="human")
    add_images(db_url, "mika", ["rejected"] * 16 + ["approved"] * 4, decided_by="human")
    drift = {d["character"]: d for d in httpx.get(f"{api}/api/autonomy/drift").json()}
    assert drift["mika"]["drifting"] and drift["mika"]["p_value"] < 0.01
    assert not drift["ember"]["drifting"] and "not enough" in drift["ember"]["reason"]
    assert httpx.get(f"{api}/api/autonomy/learning").json() == []
    assert httpx.get(f"{api}/api/autonomy/strategies").json() == []
    assert httpx.get(f"{api}/api/autonomy/events").json() == []
    assert httpx.get(f"{api}/api/autonomy/learning", params={"character": "nope"}).status_code == 404
