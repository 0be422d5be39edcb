"""The decoder configuration of an MP4's first video track, and the movie's length, read from its
boxes without ffmpeg.

A stream copy of several files into one MP4 keeps only the first file's configuration record (for
H.264 the `avcC` box with its SPS and PPS). Two clips of the same codec, size, frame rate and pixel
format can still differ there (another encoder preset: CABAC against CAVLC, other reference counts).
The concat demuxer then copies each file's parameter sets in-band (an Annex B round trip over every
frame, and an `avc1` entry that no longer describes the whole stream); without that, the second's
frames would be decoded with the first's parameter sets. So the record itself is compared. Reading it here costs a few box headers and the `moov` box, and no
decoding: ffmpeg's stream probe decodes a frame of every file to learn the pixel format.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from typing import BinaryIO, Iterator

# Configuration boxes inside a visual sample entry, by codec (H.264, H.265, AV1, VP8/9).
CONFIG_BOXES = {b"avcC", b"hvcC", b"av1C", b"vpcC"}
VISUAL_SAMPLE_ENTRY_BYTES = 78  # the fixed fields of a VisualSampleEntry before its child boxes
MAX_MOOV_BYTES = 64 << 20


def boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in data[start:end]."""
    end = len(data) if end is None else end
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            if at + 16 > end:
                return
            size, header = struct.unpack_from(">Q", data, at + 8)[0], 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            return
        yield kind, at + header, at + size
        at += size


def child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    return next(((s, e) for k, s, e in boxes(data, start, end) if k == kind), None)


def _read_moov(f: BinaryIO) -> bytes | None:
    at = 0
    while True:
        f.seek(at)
        head = f.read(16)
        if len(head) < 8:
            return None
        size, kind = struct.unpack_from(">I4s", head)
        header = 8
        if size == 1 and len(head) == 16:
            size, header = struct.unpack_from(">Q", head, 8)[0], 16
        if kind == b"moov":
            if size == 0 or size - header > MAX_MOOV_BYTES:
                return None
            return f.read(size - header) if header == 16 else head[8:] + f.read(size - 16)
        if size < header:
            return None
        at += size


def read_moov(path: Path) -> bytes | None:
    """The payload of the file's `moov` box; None when it has none (or is not a file)."""
    try:
        with open(path, "rb") as f:
            return _read_moov(f)
    except OSError:
        return None


def movie_duration_of(moov: bytes) -> float | None:
    mvhd = child(moov, 0, len(moov), b"mvhd")
    if not mvhd:
        return None
    if moov[mvhd[0]] == 1:
        timescale, duration = struct.unpack_from(">IQ", moov, mvhd[0] + 20)
    else:
        timescale, duration = struct.unpack_from(">II", moov, mvhd[0] + 12)
    return duration / timescale if timescale else None


def movie_duration(path: Path) -> float | None:
    """Seconds the movie header (`mvhd`) gives, None when the file is not an MP4 with one."""
    moov = read_moov(path)
    return movie_duration_of(moov) if moov else None


def config_digest(moov: bytes, entry: tuple[bytes, int, int]) -> str:
    """The digest of a visual sample entry's configuration box, "" when it has none."""
    codec, entry_start, entry_end = entry
    for kind, s, e in boxes(moov, entry_start + VISUAL_SAMPLE_ENTRY_BYTES, entry_end):
        if kind in CONFIG_BOXES:
            return hashlib.sha256(codec + kind + moov[s:e]).hexdigest()[:20]
    return ""


def video_config(path: Path) -> str:
    """A digest of the first video track's configuration box (codec and record), "" when the file
    is not an MP4 or its video has no such box (parameter sets in-band)."""
    moov = read_moov(path)
    if moov is None:
        return ""
    for kind, start, end in boxes(moov):
        if kind != b"trak":
            continue
        mdia = child(moov, start, end, b"mdia")
        hdlr = mdia and child(moov, *mdia, b"hdlr")
        if not hdlr or moov[hdlr[0] + 8:hdlr[0] + 12] != b"vide":
            continue
        path_to_stsd = mdia
        for step in (b"minf", b"stbl", b"stsd"):
            path_to_stsd = path_to_stsd and child(moov, *path_to_stsd, step)
        if not path_to_stsd:
            return ""
        # stsd: version/flags and entry count, then the sample entries; the first one is the track's.
        entry = next(boxes(moov, path_to_stsd[0] + 8, path_to_stsd[1]), None)
        return config_digest(moov, entry) if entry is not None else ""
    return ""
