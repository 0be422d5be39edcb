"""The /audio routes over real HTTP: analysis of a built scene, the video by range requests, voices."""

import httpx

from api.routers import audio
from studio.audio.tts import PiperSynthesizer
from studio.scene_videos.build import build_scene_video
from tests.api_server import serve_with_env
from tests.scene_sound_seed import seed_scene

SHOTS = [(2.0, [{"character": "mika", "line": "Not tonight."}]), (2.0, [])]


async def test_scene_analysis_range_requests_and_subtitles(db, db_url, studio_env, monkeypatch):
    media = studio_env / "media"
    await seed_scene(db, media, SHOTS)
    report = await build_scene_video(db, "harbor", media, PiperSynthesizer())
    data = report.path.read_bytes()
    with serve_with_env(monkeypatch, db_url, audio.router) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            analysis = (await client.get("/api/audio/scenes/harbor", params={"min_silence_s": 0.2})).json()
            assert analysis["file"] == "scenes/harbor/harbor.mp4" and analysis["audio"] is True
            assert abs(analysis["duration_s"] - 4.0) < 0.05
            assert analysis["loudness"]["integrated_lufs"] < -10
            assert analysis["silences"][0]["start_s"] == 0.0 and analysis["silences"][-1]["end_s"] is None

            whole = await client.get("/api/scenes/harbor/video")
            assert whole.status_code == 200 and whole.content == data
            assert whole.headers["accept-ranges"] == "bytes"
            part = await client.get("/api/scenes/harbor/video", headers={"Range": "bytes=100-1099"})
            assert part.status_code == 206 and part.content == data[100:1100]
            assert part.headers["content-range"] == f"bytes 100-1099/{len(data)}"
            tail = await client.get("/api/scenes/harbor/video", headers={"Range": f"bytes={len(data) + 5}-"})
            assert tail.status_code == 416

            vtt = await client.get("/api/scenes/harbor/subtitles.vtt")
            assert vtt.headers["content-type"].startswith("text/vtt") and "Mika: Not tonight." in vtt.text

            missing = await client.get("/api/audio/episodes/nothing-here")
            assert missing.status_code == 404 and "no built video" in missing.json()["detail"]
            bad = await client.get("/api/audio/shots/harbor")
            assert bad.status_code == 422


async def test_a_characters_voice_is_read_and_set(db, db_url, studio_env, monkeypatch):
    await seed_scene(db, studio_env / "media", SHOTS)
    with serve_with_env(monkeypatch, db_url, audio.router) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            before = (await client.get("/api/characters/mika-harbor/voice")).json()
            assert before["configured"] == {} and before["voice"]["voice"] == "joe"
            put = await client.put("/api/characters/mika-harbor/voice", json={"pitch_semitones": -2})
            assert put.status_code == 200 and put.json()["voice"]["pitch_semitones"] == -2
            assert put.json()["voice"]["length_scale"] == before["voice"]["length_scale"]
            bad = await client.put("/api/characters/mika-harbor/voice", json={"pitch_semitones": 99})
            assert bad.status_code == 422 and "pitch_semitones" in str(bad.json()["detail"])
            unknown = await client.put("/api/characters/mika-harbor/voice", json={"pitch": 1})
            assert unknown.status_code == 422
            assert (await client.get("/api/characters/nobody/voice")).status_code == 404
    assert await db.fetchval("SELECT voice FROM characters WHERE slug = 'mika-harbor'") == {"pitch_semitones": -2}
    assert await db.fetchval("SELECT count(*) FROM studio_events WHERE payload->>'slug' = 'mika-harbor'") == 1
