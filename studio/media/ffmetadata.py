"""ffmpeg's FFMETADATA1 text: global tags and chapters, read with `-map_metadata`/`-map_chapters`."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

from studio.domain.episode_timeline import Chapter
from studio.media.ffmpeg import run_ffmpeg


def _escape(value: str) -> str:
    # '=', ';', '#', '\' and newlines are special in the format; each is escaped with a backslash.
    return re.sub(r"([=;#\\\n])", r"\\\1", value)


def ffmetadata(tags: Mapping[str, str], chapters: Sequence[Chapter]) -> str:
    lines = [";FFMETADATA1"]
    lines += [f"{_escape(k)}={_escape(str(v))}" for k, v in tags.items()]
    for chapter in chapters:
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={round(chapter.start_s * 1000)}",
                  f"END={round(chapter.end_s * 1000)}", f"title={_escape(chapter.title)}"]
    return "\n".join(lines) + "\n"


def read_ffmetadata(path) -> tuple[dict[str, str], list[tuple[float, float, str]]]:
    """Tags and chapters (start_s, end_s, title) of a media file, as ffmpeg reads them back."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "metadata.txt"
        run_ffmpeg(["-v", "error", "-i", str(path), "-f", "ffmetadata", "-y", str(out)])
        text = out.read_text(encoding="utf-8")
    tags: dict[str, str] = {}
    chapters: list[tuple[float, float, str]] = []
    section: dict[str, str] | None = None
    # Joined continuation lines: an escaped newline ends a line with a backslash.
    for line in re.sub(r"\\\n", "\x00", text).splitlines():
        line = line.replace("\x00", "\n")
        if line.startswith(";"):
            continue
        if line == "[CHAPTER]":
            section = {}
            chapters.append(section)  # type: ignore[arg-type]
            continue
        key, _, value = line.partition("=")
        value = re.sub(r"\\(.)", r"\1", value, flags=re.S)
        (section if section is not None else tags)[key] = value
    parsed = []
    for c in chapters:
        num, den = c.get("TIMEBASE", "1/1000").split("/")
        scale = int(num) / int(den)
        parsed.append((int(c["START"]) * scale, int(c["END"]) * scale, c.get("title", "")))
    return tags, parsed
