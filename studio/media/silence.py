"""Silence in a file's audio, with ffmpeg's `silencedetect`.

silencedetect prints `silence_start: T` and later `silence_end: T | silence_duration: D`. A silence
still running when the audio ends has a start and no end (DESIGN §5); the bundled ffmpeg 9 prints an
end at the audio's last sample instead. Both are kept here as `end_s=None`: silent to the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from studio.media.ffmpeg import run_ffmpeg
from studio.media.streams import stream_duration

_START = re.compile(r"silence_start: (-?[\d.]+)")
_END = re.compile(r"silence_end: (-?[\d.]+)")


@dataclass(frozen=True)
class Silence:
    start_s: float
    end_s: float | None  # None: silent up to the end of the audio

    def as_dict(self) -> dict:
        return {"start_s": round(self.start_s, 3), "end_s": None if self.end_s is None else round(self.end_s, 3)}


def parse_silencedetect(stderr: str, audio_end_s: float | None = None) -> list[Silence]:
    """`audio_end_s`: where the audio ends; a silence ending there (to the millisecond) is a trailing one."""
    silences: list[Silence] = []
    start: float | None = None
    for line in stderr.splitlines():
        if (match := _START.search(line)) is not None:
            start = max(0.0, float(match[1]))
        elif (match := _END.search(line)) is not None and start is not None:
            silences.append(Silence(start, float(match[1])))
            start = None
    if start is not None:
        silences.append(Silence(start, None))
    if silences and audio_end_s is not None and silences[-1].end_s is not None \
            and silences[-1].end_s >= audio_end_s - 0.001:
        silences[-1] = Silence(silences[-1].start_s, None)
    return silences


def detect_silence(path: Path, *, noise_db: float = -40.0, min_duration_s: float = 0.1) -> list[Silence]:
    """Silent stretches of the first audio stream of `path` (quieter than `noise_db` for at least `min_duration_s`)."""
    stderr = run_ffmpeg(["-i", str(path), "-vn", "-map", "0:a:0",
                         "-af", f"silencedetect=noise={noise_db}dB:d={min_duration_s}", "-f", "null", "-"])
    return parse_silencedetect(stderr, stream_duration(path, "a"))


def sound_onsets(silences: list[Silence]) -> list[float]:
    """Where sound starts: 0 when the audio does not open with silence, then the end of each silence."""
    onsets = [] if silences and silences[0].start_s <= 0.0005 else [0.0]
    return onsets + [s.end_s for s in silences if s.end_s is not None]
