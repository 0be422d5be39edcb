"""SubRip subtitles: parse, shift by a scene's start in the episode, merge, and write as SRT or WebVTT."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

_TIME = r"(\d+):(\d{2}):(\d{2})[,.](\d{3})"
_CUE_TIME = re.compile(rf"{_TIME}\s*-->\s*{_TIME}")


class SubtitleError(ValueError):
    pass


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    text: str


def _seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parse_srt(text: str, *, source: str = "srt") -> list[Cue]:
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\ufeff", "").strip()):
        lines = block.strip().splitlines()
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is None:
            continue
        match = _CUE_TIME.search(lines[timing])
        if match is None:
            raise SubtitleError(f"{source}: unreadable cue time {lines[timing]!r}")
        start, end = _seconds(*match.groups()[:4]), _seconds(*match.groups()[4:])
        body = "\n".join(lines[timing + 1:]).strip()
        if body and end > start:
            cues.append(Cue(start, end, body))
    return cues


def shifted(cues: Iterable[Cue], offset_s: float, *, until_s: float | None = None) -> list[Cue]:
    """Cues moved by `offset_s`, cut at `until_s` (a scene's subtitles end when the scene does)."""
    out = []
    for cue in cues:
        start, end = cue.start_s + offset_s, cue.end_s + offset_s
        if until_s is not None:
            end = min(end, until_s)
        if end > start:
            out.append(Cue(round(start, 3), round(end, 3), cue.text))
    return out


def merge(tracks: Sequence[Sequence[Cue]]) -> list[Cue]:
    return sorted((c for track in tracks for c in track), key=lambda c: (c.start_s, c.end_s))


def _stamp(seconds: float, separator: str) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{separator}{ms % 1000:03d}"


def to_srt(cues: Sequence[Cue]) -> str:
    return "".join(f"{i}\n{_stamp(c.start_s, ',')} --> {_stamp(c.end_s, ',')}\n{c.text}\n\n"
                   for i, c in enumerate(cues, 1))


def to_webvtt(cues: Sequence[Cue]) -> str:
    """What a browser's <track> reads (it does not read SRT); < and & are markup in WebVTT, so escaped."""
    return "WEBVTT\n\n" + "".join(f"{_stamp(c.start_s, '.')} --> {_stamp(c.end_s, '.')}\n"
                                  f"{html.escape(c.text, quote=False)}\n\n" for c in cues)
