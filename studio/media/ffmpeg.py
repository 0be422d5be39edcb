"""Running ffmpeg, and reading what a media file holds.

The binary comes with the `imageio-ffmpeg` wheel (DESIGN §5), which ships no ffprobe: a file's
duration and streams are parsed from the header `ffmpeg -i` prints (about 20 ms). Graphs may be built
with ffmpeg-python; whatever builds the arguments, `run_ffmpeg` runs them and turns a failure into
an `FfmpegError` carrying the last lines ffmpeg printed.
"""

from __future__ import annotations

import functools
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

ERROR_TAIL_LINES = 12


# Lines saying what went wrong, as opposed to the stream listings and progress around them: what the
# system refused first (a full disk names itself on several lines), then ffmpeg's own complaints.
_ERROR_LINES = (re.compile(r"no space left|permission denied|read-only file system", re.I),
                re.compile(r"error|invalid|failed", re.I))


def error_reason(stderr: str) -> str:
    """The line of ffmpeg's stderr that best names the error (a full disk, a bad input), without its
    "[mp4 @ 0x...]" prefix; empty when none does."""
    lines = [re.sub(r"^(\[[^]]*\]\s*)+", "", line.strip()) for line in stderr.splitlines()]
    for pattern in _ERROR_LINES:
        for text in lines:
            if pattern.search(text):
                return text
    return ""


class FfmpegError(RuntimeError):
    """ffmpeg exited non-zero; the message leads with the error it named and ends with its last lines."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str):
        self.returncode, self.stderr = returncode, stderr
        reason = error_reason(stderr)
        tail = "\n".join(stderr.strip().splitlines()[-ERROR_TAIL_LINES:])
        super().__init__(f"ffmpeg exited with {returncode}" + (f" ({reason})" if reason else "") + f": {tail}")


@functools.cache
def ffmpeg_binary() -> str:
    import imageio_ffmpeg  # imported late: finding the binary costs a few ms nobody needs at import

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(args: Sequence[str], *, timeout_s: float | None = None, check: bool = True) -> str:
    """Run `ffmpeg -hide_banner -nostdin <args>` and return its stderr (where ffmpeg reports)."""
    command = [ffmpeg_binary(), "-hide_banner", "-nostdin", *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=timeout_s)
    if check and done.returncode != 0:
        raise FfmpegError(command, done.returncode, done.stderr)
    return done.stderr


def write_concat_list(paths: Sequence[Path], listing: Path, per_file: str = "") -> None:
    """A list for ffmpeg's concat demuxer; `per_file` (directives such as `option ...` lines) follows each file."""
    # The list quotes paths; a quote inside one is closed, escaped and reopened.
    listing.write_text("".join("file '{}'\n{}".format(str(Path(p).resolve()).replace("'", "'\\''"), per_file)
                               for p in paths))


@dataclass(frozen=True)
class VideoStream:
    codec: str
    width: int
    height: int
    fps: float
    pix_fmt: str
    timebase: int  # "tbn": ticks per second of the stream's time base


@dataclass(frozen=True)
class AudioStream:
    codec: str
    sample_rate: int
    channels: str


@dataclass(frozen=True)
class MediaInfo:
    duration_s: float
    video: VideoStream | None
    audio: AudioStream | None
    subtitle_streams: int = 0

    def same_video_parameters(self, other: "MediaInfo") -> bool:
        """What the concat demuxer needs to stream-copy two clips into one valid file (DESIGN §5)."""
        return self.video is not None and self.video == other.video


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\d+:\d+.*?: Video: (\w+).*?, (\w+)(?:\([^)]*\))?, (\d+)x(\d+)")
_FPS = re.compile(r"([\d.]+) fps")
_TBN = re.compile(r"([\d.]+)k? tbn")
_AUDIO = re.compile(r"Stream #\d+:\d+.*?: Audio: (\w+).*?, (\d+) Hz, ([\w.]+)")


def parse_media_info(header: str) -> MediaInfo:
    """The `ffmpeg -i` header of one input, parsed; a file with no duration line is not media."""
    duration = _DURATION.search(header)
    if duration is None:
        raise ValueError("no Duration line: not a media file ffmpeg can read")
    hours, minutes, seconds = duration.groups()
    video = audio = None
    subtitles = 0
    for line in header.splitlines():
        if video is None and (match := _VIDEO.search(line)):
            fps, tbn = _FPS.search(line), _TBN.search(line)
            timebase = float(tbn.group(1)) * (1000 if tbn and "k tbn" in line else 1) if tbn else 0
            video = VideoStream(match[1], int(match[3]), int(match[4]), float(fps.group(1)) if fps else 0.0,
                                match[2], int(timebase))
        elif audio is None and (match := _AUDIO.search(line)):
            audio = AudioStream(match[1], int(match[2]), match[3])
        elif ": Subtitle: " in line:
            subtitles += 1
    return MediaInfo(int(hours) * 3600 + int(minutes) * 60 + float(seconds), video, audio, subtitles)


def media_info(path: Path) -> MediaInfo:
    """Duration and streams of a file. ffmpeg -i with no output exits 1 by design; that is not an error."""
    if not Path(path).is_file():
        raise FileNotFoundError(path)
    header = run_ffmpeg(["-i", str(path)], check=False)
    try:
        return parse_media_info(header)
    except ValueError:
        raise ValueError(f"{path}: {header.strip().splitlines()[-1] if header.strip() else 'unreadable'}") from None
