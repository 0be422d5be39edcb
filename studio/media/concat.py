"""A scene's shot clips joined into one video stream, with no sound (the scene's mix is added after).

Stream copy through the concat demuxer only when every clip has the same codec, size, frame rate,
pixel format and time base (`MediaInfo.same_video_parameters`) and no shot is held: a clip that
differs joins with exit code 0 into a corrupt file (DESIGN §5). Otherwise every clip is brought to
the first clip's picture (scaled and padded, frame rate, pixel format) and a held shot keeps its last
frame for the extra time (tpad), in one re-encode. Either way the result is checked: the joined
length must be the sum of the parts within a frame, and the picture the expected size.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from studio.media.clips import ENCODE_ARGS
from studio.media.ffmpeg import MediaInfo, media_info, run_ffmpeg, write_concat_list
from studio.media.streams import stream_duration


class JoinFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class JoinedVideo:
    path: Path
    duration_s: float
    method: str  # "stream copy" | "normalised"
    reason: str  # why normalised ("" for stream copy)


def _why_normalise(infos: Sequence[MediaInfo], holds: Sequence[float]) -> str:
    if any(i.video is None for i in infos):
        return "a clip has no video stream"
    first = infos[0]
    for n, info in enumerate(infos[1:], 2):
        if not first.same_video_parameters(info):
            return f"clip {n} differs from clip 1 ({info.video} vs {first.video})"
    held = [n for n, h in enumerate(holds, 1) if h > 0]
    return f"shot(s) {', '.join(map(str, held))} hold their last frame" if held else ""


def _normalised_graph(infos: Sequence[MediaInfo], holds: Sequence[float]) -> str:
    v = infos[0].video
    width, height, fps = v.width + v.width % 2, v.height + v.height % 2, v.fps or 24.0
    parts = []
    for n, hold in enumerate(holds):
        chain = (f"[{n}:v:0]scale={width}:{height}:force_original_aspect_ratio=decrease,"
                 f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={fps:g},format=yuv420p,settb=AVTB")
        if hold > 0:
            chain += f",tpad=stop_mode=clone:stop_duration={hold:.3f}"
        parts.append(chain + f"[v{n}]")
    joined = "".join(f"[v{n}]" for n in range(len(holds)))
    return ";".join(parts) + f";{joined}concat=n={len(holds)}:v=1:a=0[out]"


def join_clips(clips: Sequence[Path], out: Path, *, holds: Sequence[float] | None = None) -> JoinedVideo:
    """Join `clips` in order into `out` (MP4, video only); `holds[k]` extra seconds of clip k's last frame."""
    if not clips:
        raise JoinFailed("a scene needs at least one clip")
    holds = list(holds or [0.0] * len(clips))
    infos = [media_info(Path(c)) for c in clips]
    reason = _why_normalise(infos, holds)
    if any(i.video is None for i in infos):
        raise JoinFailed(reason)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".join-") as tmp:
        part = Path(tmp) / "joined.mp4"
        if not reason:
            listing = Path(tmp) / "clips.txt"
            write_concat_list(clips, listing)
            run_ffmpeg(["-f", "concat", "-safe", "0", "-i", listing, "-map", "0:v:0", "-c", "copy",
                        "-movflags", "+faststart", "-y", part])
        else:
            inputs = [arg for c in clips for arg in ("-i", str(c))]
            run_ffmpeg([*inputs, "-filter_complex", _normalised_graph(infos, holds), "-map", "[out]",
                        *ENCODE_ARGS, "-y", part])
        expected = sum(i.duration_s for i in infos) + sum(holds)
        _check(part, infos[0], expected, normalised=bool(reason))
        duration = stream_duration(part, "v")
        os.replace(part, out)
    return JoinedVideo(out, round(duration, 3), "normalised" if reason else "stream copy", reason)


def _check(path: Path, first: MediaInfo, expected_s: float, *, normalised: bool) -> None:
    info = media_info(path)
    frame = 1 / (first.video.fps or 24.0)
    duration = stream_duration(path, "v") or 0.0
    # Each clip's own length is rounded to its frames, so the sum may drift by a frame per clip.
    if abs(duration - expected_s) > frame * 1.5 + 0.05:
        raise JoinFailed(f"joined video is {duration:.3f} s, expected {expected_s:.3f} s: not a valid join")
    want = (first.video.width + first.video.width % 2, first.video.height + first.video.height % 2)
    if info.video is None or (info.video.width, info.video.height) != (want if normalised else
                                                                       (first.video.width, first.video.height)):
        raise JoinFailed(f"joined video has picture {info.video}, expected {want}")
