"""Where Jellyfin expects an episode and its sidecars: `Show (Year)/Season 01/Show S01E01 - Title.mp4`.

Names are made safe for every filesystem Jellyfin runs on: the characters Windows and Jellyfin's own
parser trip over (< > : " / \\ | ? *) are removed, control characters too, runs of spaces collapse,
and leading/trailing dots and spaces go (a trailing dot is dropped silently by Windows/SMB, a leading
one hides the file). Unicode letters stay: Jellyfin matches names as Unicode text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath

FORBIDDEN = set('<>:"/\\|?*')
MAX_NAME_CHARS = 120  # keeps "<show> S01E01 - <title>-thumb.jpg" under the usual 255-byte limit


def safe_name(text: str, fallback: str) -> str:
    """`text` as one path component; `fallback` when nothing printable is left."""
    text = unicodedata.normalize("NFC", text)
    kept = "".join(" " if (c in FORBIDDEN or unicodedata.category(c)[0] == "C") else c for c in text)
    kept = re.sub(r"\s+", " ", kept).strip(" .")
    if len(kept) > MAX_NAME_CHARS:
        kept = kept[:MAX_NAME_CHARS].rstrip(" .")
    # A name of dots only ("..", "...") would mean a parent folder: never a usable name.
    return kept if kept and set(kept) != {"."} else fallback


@dataclass(frozen=True)
class EpisodeIdentity:
    show: str
    year: int
    season: int
    number: int
    title: str


@dataclass(frozen=True)
class EpisodeLayout:
    """Paths relative to the library root."""

    show_dir: PurePosixPath
    season_dir: PurePosixPath
    video: PurePosixPath
    nfo: PurePosixPath
    thumb: PurePosixPath
    subtitles: PurePosixPath
    tvshow_nfo: PurePosixPath

    def episode_files(self) -> tuple[PurePosixPath, ...]:
        """The files that belong to this episode alone (tvshow.nfo is the show's)."""
        return (self.video, self.nfo, self.thumb, self.subtitles)


def episode_layout(identity: EpisodeIdentity, *, subtitle_language: str = "en") -> EpisodeLayout:
    if identity.season < 1 or identity.number < 1:
        raise ValueError(f"season and episode number start at 1 (got {identity.season}, {identity.number})")
    show = safe_name(identity.show, "Untitled Show")
    show_dir = PurePosixPath(f"{show} ({identity.year})")
    season_dir = show_dir / f"Season {identity.season:02d}"
    code = f"S{identity.season:02d}E{identity.number:02d}"
    title = safe_name(identity.title, "")
    base = f"{show} {code} - {title}" if title else f"{show} {code}"
    return EpisodeLayout(
        show_dir=show_dir, season_dir=season_dir,
        video=season_dir / f"{base}.mp4", nfo=season_dir / f"{base}.nfo",
        thumb=season_dir / f"{base}-thumb.jpg", subtitles=season_dir / f"{base}.{subtitle_language}.srt",
        tvshow_nfo=show_dir / "tvshow.nfo",
    )
