"""Kodi-style NFO documents Jellyfin reads beside the media: `tvshow.nfo` and `<episodedetails>`.

`<lockdata>true</lockdata>` keeps Jellyfin's metadata providers from overwriting what we wrote. A
`<thumb>` must be an absolute path or URL (Jellyfin drops relative ones); the `-thumb.jpg` beside the
video is found without it, so the tag is written only when an absolute location is known.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass


@dataclass(frozen=True)
class EpisodeDetails:
    title: str
    show_title: str
    season: int
    episode: int
    plot: str = ""
    aired: dt.date | None = None
    runtime_s: float = 0.0
    thumb: str | None = None  # absolute path or URL as Jellyfin sees it


def _document(root: ET.Element) -> bytes:
    ET.indent(root)
    return b'<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


def _add(parent: ET.Element, tag: str, value: object) -> None:
    ET.SubElement(parent, tag).text = str(value)


def tvshow_nfo(title: str, *, year: int, plot: str = "") -> bytes:
    root = ET.Element("tvshow")
    _add(root, "title", title)
    _add(root, "year", year)
    if plot:
        _add(root, "plot", plot)
    _add(root, "lockdata", "true")
    return _document(root)


def episode_nfo(details: EpisodeDetails) -> bytes:
    if details.thumb is not None and not (details.thumb.startswith("/") or "://" in details.thumb):
        raise ValueError(f"thumb must be an absolute path or URL, got {details.thumb!r}")
    root = ET.Element("episodedetails")
    _add(root, "title", details.title)
    _add(root, "showtitle", details.show_title)
    _add(root, "season", details.season)
    _add(root, "episode", details.episode)
    _add(root, "plot", details.plot)
    if details.aired is not None:
        _add(root, "aired", details.aired.isoformat())
    # Kodi's runtime is whole minutes; a short episode still shows as one minute, not zero.
    _add(root, "runtime", max(1, round(details.runtime_s / 60)) if details.runtime_s > 0 else 0)
    if details.thumb is not None:
        _add(root, "thumb", details.thumb)
    _add(root, "lockdata", "true")
    return _document(root)
