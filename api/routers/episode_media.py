"""Episode files, assembly and publishing, GPU accounting, and Jellyfin's state.

GET  /api/episodes/{episode}/assembly        the assembled file (duration, loudness, mode), its publication
POST /api/episodes/{episode}/assemble        202 {run_id}: materialize `episodes` for the episode (Dagster)
POST /api/episodes/{episode}/publish         202 {run_id}: materialize `published_episodes`
GET  /api/episodes/{episode}/video           the MP4 (HTTP range requests, so a browser can seek)
GET  /api/episodes/{episode}/thumbnail       JPEG
GET  /api/episodes/{episode}/subtitles.vtt   the merged subtitles as WebVTT (what <track> reads)
GET  /api/scenes/{scene}/video, /subtitles.vtt   a scene video and its subtitles
GET  /api/episodes/{episode}/gpu             GPU seconds of everything the episode is made of, with its scenes
GET  /api/scenes/{scene}/gpu                 per shot; GET /api/characters/{character}/gpu: images + training
GET  /api/jellyfin                           configured / reachable / version (also `jellyfin_probe` for health)
POST /api/jellyfin/refresh                   a full library scan, on request only; refused within the debounce
"""

import time
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request
from fastapi.responses import FileResponse, Response

from api.deps import AppSettings, Connection, Dagster, MediaRoot
from api.openapi import file_answer
from api.routers.story_routing import story_router
from studio.media_layout import scene_video_path
from studio.settings import Settings

if TYPE_CHECKING:
    from studio.clients.jellyfin import JellyfinClient
    from studio.episodes.repository import EpisodeRecord

router = story_router("episode media")


# The episode code (its repository, GPU accounting, subtitles, the Jellyfin client and library layout)
# loads when one of these routes or the Jellyfin probe is asked, not at every start of the service: no
# review request needs it.
def _repository():
    from studio.episodes import repository

    return repository


def _gpu_accounting():
    from studio.episodes import gpu_accounting

    return gpu_accounting


async def _episode(conn, slug: str) -> "EpisodeRecord":
    repository = _repository()
    try:
        return await repository.load_episode(conn, slug)
    except repository.EpisodeNotFound as error:
        raise HTTPException(404, str(error)) from None


async def _render(conn, slug: str) -> dict:
    await _episode(conn, slug)
    render = await _repository().load_render(conn, slug)
    if render is None:
        raise HTTPException(404, f"episode {slug!r} is not assembled yet")
    return render


def _media_file(media_root: Path, relative: str | None, what: str, media_type: str) -> FileResponse:
    path = (media_root / relative).resolve() if relative else None
    if path is None or media_root.resolve() not in path.parents or not path.is_file():
        raise HTTPException(404, f"{what} is not there")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "no-cache"})


def _vtt(path: Path, what: str) -> Response:
    from studio.domain.subtitles import parse_srt, to_webvtt

    if not path.is_file():
        raise HTTPException(404, f"{what} has no subtitles")
    return Response(to_webvtt(parse_srt(path.read_text(encoding="utf-8"))), media_type="text/vtt; charset=utf-8")


@router.get("/episodes/{episode}/assembly")
async def assembly_status(conn: Connection, settings: AppSettings, episode: str) -> dict:
    repository = _repository()
    record = await _episode(conn, episode)
    render = await repository.load_render(conn, episode)
    publication = await repository.load_publication(conn, record.id)
    return {
        "episode": episode, "title": record.title, "season": record.season, "number": record.number,
        "scenes": record.scenes,
        "assembled": render is not None,
        "render": None if render is None else {
            k: render[k] for k in ("file_path", "duration_s", "integrated_lufs", "true_peak_dbtp",
                                   "normalization_type", "copy_only", "scenes", "gpu_seconds", "sha256",
                                   "dagster_run_id")} | {"assembled_at": render["assembled_at"].isoformat(),
                                                         "subtitles": render["subtitles_path"] is not None},
        "published": publication is not None,
        "publication": None if publication is None else {
            "video": str(Path(publication["library_root"]) / publication["video_path"]),
            "files": publication["files"], "link_mode": publication["link_mode"],
            "current": render is not None and publication["render_sha256"] == render["sha256"],
            "announced_at": publication["announced_at"].isoformat() if publication["announced_at"] else None,
            "announce_error": publication["announce_error"],
            "published_at": publication["published_at"].isoformat()},
        "jellyfin_configured": bool(settings.jellyfin_url),
    }


@router.post("/episodes/{episode}/assemble", status_code=202)
async def assemble(conn: Connection, dagster: Dagster, episode: str) -> dict:
    await _episode(conn, episode)
    return {"run_id": await dagster.launch_partition_run("episodes", episode)}


@router.post("/episodes/{episode}/publish", status_code=202)
async def publish(conn: Connection, dagster: Dagster, episode: str) -> dict:
    await _render(conn, episode)
    return {"run_id": await dagster.launch_partition_run("published_episodes", episode)}


@router.get("/episodes/{episode}/video", responses=file_answer("video/mp4"))
async def episode_video(conn: Connection, media_root: MediaRoot, episode: str) -> FileResponse:
    render = await _render(conn, episode)
    return _media_file(media_root, render["file_path"], f"the video of {episode}", "video/mp4")


@router.get("/episodes/{episode}/thumbnail", responses=file_answer("image/jpeg"))
async def episode_thumbnail(conn: Connection, media_root: MediaRoot, episode: str) -> FileResponse:
    render = await _render(conn, episode)
    return _media_file(media_root, render["thumbnail_path"], f"the thumbnail of {episode}", "image/jpeg")


@router.get("/episodes/{episode}/subtitles.vtt", responses=file_answer("text/vtt"))
async def episode_subtitles(conn: Connection, media_root: MediaRoot, episode: str) -> Response:
    render = await _render(conn, episode)
    if not render["subtitles_path"]:
        raise HTTPException(404, f"{episode} has no subtitles")
    return _vtt(media_root / render["subtitles_path"], episode)


@router.get("/scenes/{scene}/video", responses=file_answer("video/mp4"))
async def scene_video(media_root: MediaRoot, scene: str) -> FileResponse:
    path = scene_video_path(media_root, scene)
    return _media_file(media_root, str(path.relative_to(media_root)), f"the video of scene {scene}", "video/mp4")


@router.get("/scenes/{scene}/subtitles.vtt", responses=file_answer("text/vtt"))
async def scene_subtitles(media_root: MediaRoot, scene: str) -> Response:
    return _vtt(scene_video_path(media_root, scene).with_suffix(".srt"), f"scene {scene}")


@router.get("/episodes/{episode}/gpu")
async def episode_gpu(conn: Connection, episode: str) -> dict:
    report = await _gpu_accounting().episode_gpu(conn, episode)
    if report is None:
        raise HTTPException(404, f"episode {episode!r} is not in the studio database")
    return report


@router.get("/scenes/{scene}/gpu")
async def scene_gpu(conn: Connection, scene: str) -> dict:
    if await conn.fetchval("SELECT 1 FROM scenes WHERE slug = $1", scene) is None:
        raise HTTPException(404, f"scene {scene!r} is not in the studio database")
    shots = await _gpu_accounting().shot_gpu(conn, [scene])
    return {"scene": scene, "gpu_seconds": round(sum(s["gpu_seconds"] for s in shots), 3), "shots": shots}


@router.get("/characters/{character}/gpu")
async def character_gpu(conn: Connection, character: str) -> dict:
    found = await _gpu_accounting().character_gpu(conn, [character])
    if not found:
        raise HTTPException(404, f"character {character!r} is not in the studio database")
    return found[0]


def jellyfin_client(settings: Settings) -> "JellyfinClient | None":
    if not settings.jellyfin_url:
        return None
    from studio.clients.jellyfin import JellyfinClient, PathMap

    return JellyfinClient(settings.jellyfin_url, settings.secret("jellyfin_token"),
                          path_map=PathMap.parse(settings.jellyfin_path_map), timeout_s=3.0)


async def jellyfin_probe(settings: Settings) -> dict:
    """Jellyfin's state for health/readiness: not configured is fine (files are still published)."""
    client = jellyfin_client(settings)
    if client is None:
        return {"configured": False, "reachable": None}
    from studio.clients.jellyfin import JellyfinError

    try:
        info = await client.public_info()
    except JellyfinError as error:
        return {"configured": True, "reachable": False, "error": str(error)}
    return {"configured": True, "reachable": True, "server": info.get("ServerName"), "version": info.get("Version")}


@router.get("/jellyfin")
async def jellyfin_state(settings: AppSettings) -> dict:
    return await jellyfin_probe(settings)


@router.post("/jellyfin/refresh", status_code=202)
async def jellyfin_refresh(request: Request, settings: AppSettings) -> dict:
    client = jellyfin_client(settings)
    if client is None:
        raise HTTPException(409, "no Jellyfin is configured (STUDIO_JELLYFIN_URL)")
    from studio.clients.jellyfin import JellyfinError

    # A second full scan cancels the running one in Jellyfin: refuse one within the debounce instead.
    last = getattr(request.app.state, "jellyfin_refreshed_at", None)
    now = time.monotonic()
    if last is not None and now - last < settings.jellyfin_debounce_s:
        raise HTTPException(429, f"a library scan was asked for {now - last:.0f} s ago; "
                                 f"wait {settings.jellyfin_debounce_s - (now - last):.0f} s",
                            headers={"Retry-After": str(int(settings.jellyfin_debounce_s - (now - last)) + 1)})
    try:
        await client.refresh_library()
    except JellyfinError as error:
        raise HTTPException(502, str(error)) from None
    request.app.state.jellyfin_refreshed_at = now
    return {"refresh": "started"}
