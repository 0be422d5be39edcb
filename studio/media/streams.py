"""How long each stream of a file really is: the container's Duration is the longest of them.

The packets of one stream are copied (not decoded) into ffmpeg's `framecrc` listing, whose lines are
`stream, dts, pts, duration, size, crc` in the stream's time base (`#tb N: num/den`): the stream
ends where its last packet's pts plus duration is. ffmpeg's progress `time=` is the last packet's
start instead, a frame short.
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

from studio.media.ffmpeg import FfmpegError, ffmpeg_binary, media_info


def stream_duration(path: Path, stream: str = "a") -> float | None:
    """Seconds from 0 to the end of the first `a`udio or `v`ideo stream; None when there is none."""
    info = media_info(path)
    # ffmpeg maps every stream when an optional map matches none: ask only for a stream that exists.
    if (info.audio if stream == "a" else info.video) is None:
        return None
    command = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-i", str(path), "-map", f"0:{stream}:0",
               "-c", "copy", "-f", "framecrc", "-"]
    done = subprocess.run(command, capture_output=True, text=True, errors="replace", check=False)
    if done.returncode != 0:
        raise FfmpegError(command, done.returncode, done.stderr)
    timebase, end = None, None
    for line in done.stdout.splitlines():
        if line.startswith("#tb 0:"):
            timebase = Fraction(line.split(":", 1)[1].strip())
        elif line and not line.startswith("#"):
            fields = [f.strip() for f in line.split(",")]
            pts, duration = int(fields[2]), int(fields[3])
            end = max(end or 0, pts + duration)
    if timebase is None or end is None:
        return None
    return float(end * timebase)
