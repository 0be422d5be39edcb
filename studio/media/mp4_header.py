"""What `ffmpeg -i` would say of an MP4 the studio wrote, read from its boxes without starting ffmpeg.

Episode assembly reads every scene's header before it decides anything; for a cuts-only episode of
scene videos that read was the one process besides the copy itself. This reads what the decision
needs from the `moov` box: the movie's length (`mvhd`), the first video track's codec, size, time
scale and frame rate, the first audio track's codec, rate and channels, and the `mdta` tags
(`-movflags +use_metadata_tags`). The pixel format is not in the boxes: it stays UNPROBED, and
files of one decoder configuration share it. Whatever this does not recognise gives None, and
ffmpeg reads the file instead.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from studio.media.ffmpeg import AudioStream, MediaInfo, VideoStream
from studio.media.mp4_boxes import boxes, child, config_digest, movie_duration_of, read_moov

UNPROBED = "none"  # as ffmpeg prints a pixel format it did not decode a frame for
CODECS = {b"avc1": "h264", b"avc3": "h264", b"hvc1": "hevc", b"hev1": "hevc", b"mp4a": "aac"}
CHANNELS = {1: "mono", 2: "stereo"}
SUBTITLE_HANDLERS = {b"sbtl", b"text", b"subt"}


@dataclass(frozen=True)
class Mp4Header:
    info: MediaInfo
    video_config: str  # as studio.media.mp4_boxes.video_config
    tags: dict[str, str]


@dataclass(frozen=True)
class _Track:
    handler: bytes
    timescale: int
    stbl: tuple[int, int]


def _tracks(moov: bytes) -> list[_Track]:
    tracks = []
    for kind, start, end in boxes(moov):
        mdia = kind == b"trak" and child(moov, start, end, b"mdia")
        hdlr, mdhd = mdia and child(moov, *mdia, b"hdlr"), mdia and child(moov, *mdia, b"mdhd")
        minf = mdia and child(moov, *mdia, b"minf")
        stbl = minf and child(moov, *minf, b"stbl")
        if hdlr and mdhd and stbl:
            at = mdhd[0] + (20 if moov[mdhd[0]] == 1 else 12)  # past version/flags and the two times
            tracks.append(_Track(moov[hdlr[0] + 8:hdlr[0] + 12], struct.unpack_from(">I", moov, at)[0], stbl))
    return tracks


def _entry(moov: bytes, track: _Track) -> tuple[bytes, int, int] | None:
    stsd = child(moov, *track.stbl, b"stsd")
    return next(boxes(moov, stsd[0] + 8, stsd[1]), None) if stsd else None


def _video(moov: bytes, track: _Track) -> tuple[VideoStream, str] | None:
    entry, stts = _entry(moov, track), child(moov, *track.stbl, b"stts")
    if entry is None or stts is None or entry[0] not in CODECS or not track.timescale:
        return None
    codec, start, end = entry
    width, height = struct.unpack_from(">HH", moov, start + 24)
    (count,) = struct.unpack_from(">I", moov, stts[0] + 4)
    runs = [struct.unpack_from(">II", moov, stts[0] + 8 + 8 * k) for k in range(count)]
    frames, ticks = sum(n for n, _ in runs), sum(n * d for n, d in runs)
    if not frames or not ticks:
        return None
    fps = round(frames * track.timescale / ticks, 2)
    return VideoStream(CODECS[codec], width, height, fps, UNPROBED, track.timescale), config_digest(moov, entry)


def _audio(moov: bytes, track: _Track) -> AudioStream | None:
    entry = _entry(moov, track)
    if entry is None or entry[0] != b"mp4a" or struct.unpack_from(">H", moov, entry[1] + 8)[0] != 0:
        return None  # only the version 0 entry of MP4 files (QuickTime's v1/v2 lay it out otherwise)
    channels, = struct.unpack_from(">H", moov, entry[1] + 16)
    rate = struct.unpack_from(">I", moov, entry[1] + 24)[0] >> 16
    return AudioStream("aac", rate, CHANNELS[channels]) if channels in CHANNELS and rate else None


def _tags(moov: bytes) -> dict[str, str]:
    """`mdta` tags: a `keys` box names them, the `ilst` box holds one item per key, numbered from 1."""
    udta = child(moov, 0, len(moov), b"udta")
    meta = (udta and child(moov, *udta, b"meta")) or child(moov, 0, len(moov), b"meta")
    if not meta:
        return {}
    keys, ilst = child(moov, meta[0] + 4, meta[1], b"keys"), child(moov, meta[0] + 4, meta[1], b"ilst")
    if not keys or not ilst:
        return {}
    names, at = [], keys[0] + 8
    for _ in range(struct.unpack_from(">I", moov, keys[0] + 4)[0]):
        size, = struct.unpack_from(">I", moov, at)
        names.append(moov[at + 8:at + size].decode("utf-8", "replace"))
        at += size
    tags = {}
    for index, start, end in boxes(moov, *ilst):
        k = int.from_bytes(index, "big") - 1
        data = child(moov, start, end, b"data")
        if data and 0 <= k < len(names):
            tags[names[k]] = moov[data[0] + 8:data[1]].decode("utf-8", "replace")  # past type and locale
    return tags


def mp4_header(path: Path) -> Mp4Header | None:
    """The header of an MP4 with one H.264/H.265 video track and an AAC track, or None."""
    moov = read_moov(path)
    duration = moov and movie_duration_of(moov)
    if not moov or duration is None:
        return None
    tracks = _tracks(moov)
    videos = [t for t in tracks if t.handler == b"vide"]
    sounds = [t for t in tracks if t.handler == b"soun"]
    video = _video(moov, videos[0]) if videos else None
    audio = _audio(moov, sounds[0]) if sounds else None
    if video is None or audio is None:
        return None
    subtitles = sum(1 for t in tracks if t.handler in SUBTITLE_HANDLERS)
    return Mp4Header(MediaInfo(duration, video[0], audio, subtitles), video[1], _tags(moov))
