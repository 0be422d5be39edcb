"""Shot planning and render routes over HTTP, on the example project rendered with the preview backend."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from api.app import create_app
from api.routers import shots
from studio.cli import main as studio
from studio.db.pool import create_pool
from studio.settings import load_settings
from studio.shots.keyframes import ensure_keyframes
from studio.shots.render_scene import render_scene
from studio.shots.renderers import PreviewShotRenderer
from tests.api_server import serve_api, with_routers
from tests.conftest import EXAMPLE_SPEC

SCENE = "lamp-goes-out"


def _render(db_url, media_root):
    async def go():
        pool = await create_pool(db_url, max_size=3)
        try:
            await ensure_keyframes(pool, SCENE, media_root, size=(256, 144), allow_drawing=True,
                                   log=logging.getLogger("test"))
            return await render_scene(pool, SCENE, PreviewShotRenderer(256, 144, 24.0), media_root,
                                      log=logging.getLogger("test"))
        finally:
            await pool.close()

    return asyncio.run(go())


@pytest.fixture
def api(studio_env, db_url):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    settings = load_settings()
    _render(db_url, settings.media_root)
    app = with_routers(create_app(settings, database_url=db_url), shots.router)
    with serve_api(app) as url, httpx.Client(base_url=url, timeout=20) as client:
        yield client


def test_status_edits_mark_what_becomes_stale(api):
    status = api.get(f"/api/scenes/{SCENE}/render-status").json()
    keys = [s["key"] for s in status["shots"]]
    assert status["stale"] == [] and status["eta_minutes"] == 0 and status["rendering"] is False
    assert all(s["status"] == "rendered" for s in status["shots"])
    # Dialogue does not change the picture ...
    edited = api.patch(f"/api/scenes/{SCENE}/shots/{keys[0]}/render",
                       json={"dialogue": [{"character": "mika", "line": "Hold on!"}]})
    assert edited.status_code == 200 and edited.json()["stale"] == []
    # ... the motion prompt does, for the shot and the rest of its chain.
    edited = api.patch(f"/api/scenes/{SCENE}/shots/{keys[1]}/render", json={"motion_prompt": "she spins round"}).json()
    assert edited["stale"] == keys[1:]
    by_key = {s["key"]: s for s in edited["shots"]}
    assert by_key[keys[1]]["stale_reason"] == "its inputs changed"
    assert by_key[keys[2]]["stale_reason"] == "the previous shot is rendered again"
    assert edited["eta_minutes"] > 0
    rerender = api.post(f"/api/scenes/{SCENE}/shots/{keys[0]}/rerender").json()
    assert rerender["stale"] == keys


def test_bad_edits_name_the_field_and_unknown_shots_are_404(api):
    key = api.get(f"/api/scenes/{SCENE}/render-status").json()["shots"][0]["key"]
    bad = api.patch(f"/api/scenes/{SCENE}/shots/{key}/render", json={"shot_type": "dolly"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "shot_type"
    bad = api.patch(f"/api/scenes/{SCENE}/shots/{key}/render", json={"keyframe_image_id": 999})
    assert bad.status_code == 409 and "not an approved image" in bad.text
    assert api.patch(f"/api/scenes/{SCENE}/shots/nope/render", json={}).status_code == 404
    assert api.get("/api/scenes/nowhere/render-status").status_code == 404


def test_null_clears_only_what_may_be_empty(api):
    shot = api.get(f"/api/scenes/{SCENE}/render-status").json()["shots"][0]
    key = shot["key"]
    fields = ("motion_prompt", "shot_type", "cut", "duration_s", "dialogue", "first_frame")
    kept = api.patch(f"/api/scenes/{SCENE}/shots/{key}/render", json={field: None for field in fields})
    assert kept.status_code == 200, kept.text
    assert kept.json()["shots"][0]["duration_s"] == shot["duration_s"]  # null left it as it was
    # A boolean is not a number and a number not a boolean, even where pydantic's lax mode would take them.
    for field, value in (("seed", False), ("keyframe_image_id", True), ("cut", 0)):
        bad = api.patch(f"/api/scenes/{SCENE}/shots/{key}/render", json={field: value})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == field, (field, bad.text)
    cleared = api.patch(f"/api/scenes/{SCENE}/shots/{key}/render", json={"seed": None, "keyframe_image_id": None})
    assert cleared.status_code == 200, cleared.text


def test_clip_supports_range_requests_and_frames_are_served(api):
    key = api.get(f"/api/scenes/{SCENE}/render-status").json()["shots"][1]["key"]
    whole = api.get(f"/api/scenes/{SCENE}/shots/{key}/clip")
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    part = api.get(f"/api/scenes/{SCENE}/shots/{key}/clip", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    assert part.content == whole.content[100:200]
    last = api.get(f"/api/scenes/{SCENE}/shots/{key}/frames/last")
    start = api.get(f"/api/scenes/{SCENE}/shots/{key}/frames/start")
    assert last.content[:8] == b"\x89PNG\r\n\x1a\n" and start.status_code == 200
    assert api.get(f"/api/scenes/{SCENE}/shots/{key}/frames/keyframe").status_code == 404  # continues a chain
    assert api.get(f"/api/scenes/{SCENE}/shots/{key}/frames/middle").status_code == 422


def test_presets_and_a_preview_proposal_accepted_through_the_api(api):
    presets = api.get("/api/motion-presets").json()
    assert {p["shot_type"] for p in presets} >= {"establishing", "close_up"}
    proposal = api.post("/api/projects/lantern-harbor/scene-proposals", json={"scenes": 1})
    assert proposal.status_code == 201, proposal.text
    body = proposal.json()
    assert body["backend"] == "preview" and len(body["breakdown"]["scenes"]) == 1
    accepted = api.post(f"/api/scene-proposals/{body['id']}/accept", json={})
    assert accepted.status_code == 200 and len(accepted.json()["scenes"]) == 1
    assert api.post(f"/api/scene-proposals/{body['id']}/accept", json={}).status_code == 409


def test_a_shot_left_in_flight_by_a_dead_run_shows_as_interrupted(api, db_url):
    from studio.db.pool import connect

    async def leave_in_flight():
        async with connect(db_url) as conn:
            await conn.execute("UPDATE shots SET status = 'rendering' WHERE position = 2")

    asyncio.run(leave_in_flight())
    status = api.get(f"/api/scenes/{SCENE}/render-status").json()
    assert [s["status"] for s in status["shots"]] == ["rendered", "interrupted", "rendered"]


def test_live_proposals_go_through_echo_when_configured_and_a_planner_away_is_a_503(studio_env, db_url):
    from tests.doubles.echo import EchoDouble
    from tests.test_scene_planner import GOOD

    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    with EchoDouble() as echo:
        echo.replies.append(GOOD)
        settings = load_settings().with_values(backend="live", echo_url=echo.url,
                                               ollama_url=f"http://127.0.0.1:{_closed_port()}")
        app = with_routers(create_app(settings, database_url=db_url), shots.router)
        with serve_api(app) as url, httpx.Client(base_url=url, timeout=20) as client:
            made = client.post("/api/projects/lantern-harbor/scene-proposals", json={"scenes": 1})
            assert made.status_code == 201 and made.json()["backend"] == "echo"
            assert made.json()["breakdown"] == GOOD
            echo.stop_serving()
            away = client.post("/api/projects/lantern-harbor/scene-proposals", json={"scenes": 1})
            assert away.status_code == 503 and "cannot reach Echo" in away.text
        app = with_routers(create_app(settings.with_values(echo_url=""), database_url=db_url), shots.router)
        with serve_api(app) as url, httpx.Client(base_url=url, timeout=20) as client:
            away = client.post("/api/projects/lantern-harbor/scene-proposals", json={"scenes": 1})
            assert away.status_code == 503 and "scene planning: cannot reach Ollama" in away.text


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
