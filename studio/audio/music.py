"""Which music bed a scene gets: its own, else its project's; a local file, or a URL when allowed.

A value is a URL (http/https), a file (it ends in an audio extension; relative paths are under the
media root), or otherwise a description for a person ("low strings, rain"), which names no file:
the project's bed is used then. A URL is fetched only when STUDIO_MUSIC_URLS_ALLOWED is on, once,
into the media root's cache; by default it is refused with a message saying so.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import httpx

from studio.media.ffmpeg import media_info
from studio.uploads import write_atomically

AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".aac"})
MAX_MUSIC_BYTES = 200 * 1024 * 1024


class MusicUnavailable(RuntimeError):
    """The scene names a music bed that cannot be used; the message says why."""


@dataclass(frozen=True)
class MusicBed:
    source: str  # as the scene or project gives it
    path: Path


def _kind(value: str) -> str:
    if urlsplit(value).scheme in ("http", "https"):
        return "url"
    return "file" if PurePosixPath(value).suffix.lower() in AUDIO_SUFFIXES else "description"


def chosen_source(scene_music: str | None, project_music: str | None) -> str | None:
    """The scene's bed when it names a file or URL, else the project's; None: no music."""
    for value in (scene_music, project_music):
        if value and value.strip() and _kind(value.strip()) != "description":
            return value.strip()
    return None


async def resolve_music(source: str | None, media_root: Path, *, urls_allowed: bool,
                        timeout_s: float = 30.0) -> MusicBed | None:
    if source is None:
        return None
    if _kind(source) == "url":
        if not urls_allowed:
            raise MusicUnavailable(f"music {source!r} is a URL and fetching music is off "
                                   "(STUDIO_MUSIC_URLS_ALLOWED); put the file under the media root instead")
        path = await _fetch(source, media_root, timeout_s)
    else:
        path = Path(source) if Path(source).is_absolute() else Path(media_root) / source
        if not path.is_file():
            raise MusicUnavailable(f"music file not found: {path}")
    try:
        info = media_info(path)
    except ValueError as exc:
        raise MusicUnavailable(f"music {source!r} is not media ffmpeg can read: {exc}") from None
    if info.audio is None or info.duration_s <= 0:
        raise MusicUnavailable(f"music {source!r} has no audio stream")
    return MusicBed(source, path)


async def _fetch(url: str, media_root: Path, timeout_s: float) -> Path:
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    path = Path(media_root) / "audio" / "music" / (hashlib.sha256(url.encode()).hexdigest()[:24] +
                                                     (suffix if suffix in AUDIO_SUFFIXES else ".audio"))
    if path.is_file():
        return path
    try:
        async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=True) as client:
            response = await client.get(url)
    except httpx.HTTPError as exc:
        raise MusicUnavailable(f"music {url!r} could not be fetched: {exc!r}") from None
    if response.status_code != 200:
        raise MusicUnavailable(f"music {url!r} answered {response.status_code}")
    if len(response.content) > MAX_MUSIC_BYTES:
        raise MusicUnavailable(f"music {url!r} is over {MAX_MUSIC_BYTES} bytes")
    write_atomically(path, response.content)
    return path
