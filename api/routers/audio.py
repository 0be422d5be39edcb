"""Sound of scenes and episodes, and characters' voices.

GET /api/audio/{kind}/{slug}          kind `scenes` or `episodes`: duration, loudness (integrated LUFS,
                                      true peak), silence regions of the built file
GET /api/characters/{slug}/voice      the voice the character speaks with (configured and derived)
PUT /api/characters/{slug}/voice      set it (the spec's `voice` fields; omitted ones are derived)

The scene video itself (range requests) and its WebVTT are served by api/routers/episode_media.py.
"""

import math
from pathlib import Path
from typing import Literal

from fastapi import HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool

from api.deps import Connection, MediaRoot
from api.routers.story_routing import story_router
from studio.media_layout import episode_dir, scene_video_path
from studio.spec.models import VoiceSpec

router = story_router("audio")


def _built_file(media_root: Path, kind: str, slug: str) -> Path:
    path = scene_video_path(media_root, slug) if kind == "scenes" else episode_dir(media_root, slug) / f"{slug}.mp4"
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{kind[:-1]} {slug!r} has no built video yet")
    return path


def _finite(value: float) -> float | None:
    return round(value, 2) if math.isfinite(value) else None


def _analyse(path: Path, noise_db: float, min_silence_s: float) -> dict:
    # The ffmpeg wrappers (studio/media) load when a file is analysed, not at every start of the service.
    from studio.media.ebur128 import measure_ebur128
    from studio.media.ffmpeg import media_info
    from studio.media.silence import detect_silence

    info = media_info(path)
    if info.audio is None:
        return {"duration_s": info.duration_s, "audio": False, "loudness": None, "silences": []}
    loud = measure_ebur128(path)
    return {"duration_s": info.duration_s, "audio": True,
            "loudness": {"integrated_lufs": _finite(loud.integrated), "true_peak_dbtp": _finite(loud.true_peak),
                         "lra": _finite(loud.lra)},
            "silences": [s.as_dict() for s in detect_silence(path, noise_db=noise_db, min_duration_s=min_silence_s)]}


@router.get("/audio/{kind}/{slug}")
async def audio_analysis(media_root: MediaRoot, kind: Literal["scenes", "episodes"], slug: str,
                         noise_db: float = Query(-40.0, ge=-90, le=0, description="silence is quieter than this"),
                         min_silence_s: float = Query(0.3, gt=0, le=60, description="shortest silence reported")):
    from studio.media.ffmpeg import FfmpegError
    from studio.media.loudnorm import LoudnessError

    path = _built_file(media_root, kind, slug)
    try:
        # ffmpeg reads the whole file: off the event loop.
        return {"file": str(path.relative_to(media_root)),
                **await run_in_threadpool(_analyse, path, noise_db, min_silence_s)}
    except (FfmpegError, LoudnessError, ValueError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{kind[:-1]} {slug!r}: unreadable: {exc}") from None


# The voices' repository (with the voice rules) loads when a voice is asked, not at every start.
def _voices():
    from studio.audio import voices_repository

    return voices_repository


@router.get("/characters/{slug}/voice")
async def get_voice(conn: Connection, slug: str) -> dict:
    return await _voices().character_voice(conn, slug)


@router.put("/characters/{slug}/voice")
async def put_voice(conn: Connection, slug: str, body: VoiceSpec) -> dict:
    return await _voices().set_character_voice(conn, slug, body.model_dump(exclude_none=True))
