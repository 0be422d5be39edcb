"""The stream parameters of many media files at once, read from their headers with one ffmpeg.

For episode assembly: what decides whether scene videos can be joined by stream copy (codec, size,
frame rate, pixel format, time base, audio format, and the decoder configuration record), and the
loudness a scene video carries in its tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

from studio.media.ffmpeg import MediaInfo, media_info, parse_media_info, run_ffmpeg
from studio.media.loudness_tags import loudness_from_tags, tagged_loudness
from studio.media.loudnorm import Loudness
from studio.media.mp4_boxes import video_config
from studio.media.mp4_header import UNPROBED, mp4_header

# Read the header only: a stream's parameters then come from the container's boxes, and the pixel
# format, which only a decoded frame tells, stays unknown ("none").
QUICK_PROBE = ["-probesize", "32", "-analyzeduration", "0"]


@dataclass(frozen=True)
class ProbedScene:
    info: MediaInfo
    video_config: str  # digest of the video's decoder configuration (studio/media/mp4_boxes.py)
    loudness: Loudness | None  # what the file's loudness tags say (scene videos carry them)


def _probed_video(info: MediaInfo, full: MediaInfo | None) -> MediaInfo:
    if info.video is None or info.video.pix_fmt != UNPROBED or full is None or full.video is None:
        return info
    return replace(info, video=replace(info.video, pix_fmt=full.video.pix_fmt))


def probe_scenes(paths: Sequence[Path], *, pixel_formats: bool = True) -> list[ProbedScene]:
    """Every file's header from one ffmpeg process (20 processes would cost ~1 s); ffmpeg prints one
    `Input #k` block per file, in order. A full probe decodes a frame of each file to learn its pixel
    format; only the first file of each distinct video configuration is probed so, the others take
    its pixel format (the configuration holds the parameter sets that decide it). `pixel_formats`
    False: none is (files of one configuration still compare equal; a stream copy needs no more),
    and MP4s the studio wrote are read from their boxes, with no ffmpeg at all."""
    for path in paths:
        if not Path(path).is_file():
            raise FileNotFoundError(path)
    if not pixel_formats:
        headers = [mp4_header(Path(p)) for p in paths]
        if all(h is not None for h in headers):
            return [ProbedScene(h.info, h.video_config, loudness_from_tags(h.tags)) for h in headers]
    configs = [video_config(Path(p)) for p in paths]
    first_of = {c: k for k, c in reversed(list(enumerate(configs)))}
    args = []
    for k, (path, config) in enumerate(zip(paths, configs)):
        quick = config and (first_of[config] != k or not pixel_formats)
        args += [*(QUICK_PROBE if quick else []), "-i", str(path)]
    header = run_ffmpeg(args, check=False)
    blocks = re.split(r"^Input #\d+, ", header, flags=re.MULTILINE)[1:]
    if len(blocks) != len(paths):  # one was unreadable: let media_info name it
        return [ProbedScene(media_info(p), c, None) for p, c in zip(paths, configs)]
    infos = [parse_media_info(block) for block in blocks]
    return [ProbedScene(_probed_video(info, infos[first_of[config]] if config else None), config,
                        tagged_loudness(block)) for info, config, block in zip(infos, configs, blocks)]


def header_info(path: Path) -> MediaInfo:
    """Duration and streams as the header gives them (the pixel format stays UNPROBED)."""
    try:
        return parse_media_info(run_ffmpeg([*QUICK_PROBE, "-i", str(path)], check=False))
    except ValueError:
        return media_info(path)  # names what is wrong with the file
