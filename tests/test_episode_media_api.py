"""Episode media routes over real HTTP: status, file with range requests, thumbnail, subtitles, GPU
seconds, triggers, and Jellyfin's state and refresh against the Jellyfin double."""

import httpx

from api.routers import episode_media
from studio.episodes import build
from studio.episodes.build import SceneSource
from studio.spec.importer import import_project
from studio.spec.validation import load_spec
from tests.api_server import serve_with_env
from tests.conftest import EXAMPLE_SPEC
from tests.doubles.jellyfin import JellyfinDouble
from tests.episode_media import make_scene_clip

EPISODE = "lantern-harbor-e01"


async def seed(db, home, tmp_path):
    await import_project(db, load_spec(EXAMPLE_SPEC), EXAMPLE_SPEC, home / "media")
    clip = make_scene_clip(tmp_path / "scene.mp4", duration_s=3.5, srt="1\n00:00:01,000 --> 00:00:02,000\nA & B\n")
    await build.assemble(db, home / "media", EPISODE, {"lamp-goes-out": SceneSource(clip, "v1", clip.with_suffix(".srt"))})
    ids = {r["slug"]: r["id"] for r in await db.fetch("SELECT slug, id FROM characters")}
    image = await db.fetchval(
        """INSERT INTO images (character_id, file_path, sha256, phash, gpu_seconds)
           VALUES ($1, 'a.png', 'aa', 1, 2.5) RETURNING id""", ids["mika"])
    await db.execute("INSERT INTO images (character_id, file_path, sha256, phash, gpu_seconds) "
                     "VALUES ($1, 'b.png', 'bb', 2, 1.0), ($1, 'c.png', 'cc', 3, NULL)", ids["ember"])
    await db.execute("""INSERT INTO lora_checkpoints (character_id, version, file_path, sha256, base_model, image_count,
                                                      dataset_hash, backend, gpu_seconds)
                        VALUES ($1, 1, 'l.safetensors', 'x', 'sdxl', 12, 'h', 'preview', 100)""", ids["mika"])
    await db.execute("UPDATE shots SET gpu_seconds = 10")
    # The first shot's keyframe is one of mika's dataset images: counted once, with her images.
    await db.execute("UPDATE shots SET keyframe_image_id = $1 WHERE position = 1", image)
    # The second shot's keyframe was picked from txt2img candidates: no dataset images, 4 s on the GPU.
    assert await db.fetchval("UPDATE shots SET keyframe_gpu_seconds = 4.0 WHERE position = 2 RETURNING id")
    return await db.fetchval("SELECT count(*) FROM shots")


async def test_episode_media_routes(studio_env, db, db_url, tmp_path, monkeypatch):
    shots = await seed(db, studio_env, tmp_path)
    with JellyfinDouble(token="tok") as jellyfin, serve_with_env(
            monkeypatch, db_url, episode_media.router, STUDIO_HOME=str(studio_env), STUDIO_JELLYFIN_URL=jellyfin.url,
            STUDIO_JELLYFIN_TOKEN="tok", STUDIO_DAGSTER_GRAPHQL_URL="http://127.0.0.1:9/graphql") as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as api:
            status = (await api.get(f"/api/episodes/{EPISODE}/assembly")).json()
            assert status["assembled"] and not status["published"]
            assert status["render"]["duration_s"] == 3.5 and status["render"]["copy_only"]
            assert status["render"]["normalization_type"] in ("linear", "dynamic")
            assert (await api.get("/api/episodes/nowhere/assembly")).status_code == 404

            video = studio_env / "media" / status["render"]["file_path"]
            part = await api.get(f"/api/episodes/{EPISODE}/video", headers={"Range": "bytes=100-199"})
            assert part.status_code == 206 and part.content == video.read_bytes()[100:200]
            assert part.headers["content-range"] == f"bytes 100-199/{video.stat().st_size}"
            thumb = await api.get(f"/api/episodes/{EPISODE}/thumbnail")
            assert thumb.headers["content-type"] == "image/jpeg" and thumb.content[:2] == b"\xff\xd8"
            vtt = await api.get(f"/api/episodes/{EPISODE}/subtitles.vtt")
            assert vtt.text == "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nA &amp; B\n\n"
            assert (await api.get("/api/scenes/lamp-goes-out/video")).status_code == 404  # no scene video yet

            gpu = (await api.get(f"/api/episodes/{EPISODE}/gpu")).json()
            assert gpu["breakdown"] == {"shots_s": 10.0 * shots, "keyframes_s": 0.0, "keyframe_candidates_s": 4.0,
                                        "dataset_images_s": 3.5, "lora_training_s": 100.0}
            # The total is the sum of its parts: each counted once.
            assert gpu["gpu_seconds"] == sum(gpu["breakdown"].values()) == 10.0 * shots + 107.5
            scene = (await api.get("/api/scenes/lamp-goes-out/gpu")).json()
            assert scene["shots"][0]["gpu_seconds"] == 12.5 and scene["shots"][1]["gpu_seconds"] == 14.0
            assert scene["gpu_seconds"] == sum(s["gpu_seconds"] for s in scene["shots"]) == 10.0 * shots + 6.5
            # Scenes plus characters, less the keyframe image that is one of mika's dataset images.
            characters = sum(c["gpu_seconds"] for c in gpu["characters"])
            assert gpu["gpu_seconds"] == scene["gpu_seconds"] + characters - 2.5
            assert (await api.get("/api/characters/mika/gpu")).json() == {
                "character": "mika", "dataset_images_s": 2.5, "lora_training_s": 100.0, "gpu_seconds": 102.5}
            assert (await api.get("/api/characters/nobody/gpu")).status_code == 404

            assert (await api.post("/api/episodes/nowhere/assemble")).status_code == 404
            unreachable = await api.post(f"/api/episodes/{EPISODE}/assemble")
            assert unreachable.status_code == 503  # Dagster's webserver is not running here

            state = (await api.get("/api/jellyfin")).json()
            assert state == {"configured": True, "reachable": True, "server": "studio-jellyfin", "version": "10.10.7"}
            assert (await api.post("/api/jellyfin/refresh")).status_code == 202
            again = await api.post("/api/jellyfin/refresh")
            assert again.status_code == 429 and "Retry-After" in again.headers
            assert jellyfin.refreshes == 1 and jellyfin.auth_headers == ['MediaBrowser Token="tok"']
            jellyfin.healthy = False
            assert (await api.get("/api/jellyfin")).json()["reachable"] is False
