"""Shot clips: the preview's Ken Burns clip, the exact last frame, and colour matching to an anchor.

Frames travel between ffmpeg processes as raw RGB through pipes, so a clip is encoded once: the
preview's zoom-and-pan frames and a ComfyUI clip's decoded frames both pass the colour match on
their way to the one H.264 encode. Colour matching moves every frame's per-channel mean and spread
to the anchor's (the scene's first frame), never to the previous clip's: matching to the previous
clip passes each join's error on and the chain drifts.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image

from studio.media.ffmpeg import FfmpegError, error_reason, ffmpeg_binary, media_info, run_ffmpeg

# Browsers play H.264 yuv420p; crf 16 keeps a join's PSNR well above 35 dB.
ENCODE_ARGS = ("-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-pix_fmt", "yuv420p",
               "-movflags", "+faststart")


class ClipError(RuntimeError):
    pass


@dataclass(frozen=True)
class ChannelStats:
    mean: np.ndarray  # (3,) float
    std: np.ndarray

    @classmethod
    def of(cls, rgb: np.ndarray) -> "ChannelStats":
        # Every other row and column: the same statistics within a fraction of a level, 4x faster.
        pixels = rgb[::2, ::2].reshape(-1, 3).astype(np.float32)
        return cls(pixels.mean(axis=0).astype(np.float64), pixels.std(axis=0).astype(np.float64))


_CHANNELS = np.arange(3)[None, None, :]
_LEVELS = np.arange(256, dtype=np.float64)[None, :]


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def match_colours(frame: np.ndarray, anchor: ChannelStats) -> np.ndarray:
    """One frame moved to the anchor's per-channel mean and spread (a lookup table per channel)."""
    own = ChannelStats.of(frame)
    scale = (anchor.std / np.maximum(own.std, 1e-3))[:, None]
    tables = np.clip(np.rint((_LEVELS - own.mean[:, None]) * scale + anchor.mean[:, None]), 0, 255)
    return tables.astype(np.uint8)[_CHANNELS, frame]


def _ffmpeg(args: list[str], **popen) -> subprocess.Popen:
    return subprocess.Popen([ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "error", *args], **popen)


def _frames(args: list[str], width: int, height: int) -> Iterator[np.ndarray]:
    """Raw RGB frames of whatever `args` decode (they end before the output options)."""
    process = _ffmpeg([*args, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE)
    size = width * height * 3
    try:
        while chunk := process.stdout.read(size):
            if len(chunk) < size:
                break
            yield np.frombuffer(chunk, np.uint8).reshape(height, width, 3)
    finally:
        process.stdout.close()
        stderr = process.stderr.read().decode(errors="replace")
        process.stderr.close()
        if process.wait() != 0:
            raise FfmpegError(args, process.returncode, stderr)


def _encode(frames: Iterator[np.ndarray], out: Path, width: int, height: int, fps: float,
            anchor: ChannelStats | None) -> int:
    """Encode to `out` through a temporary name; returns the number of frames written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.stem}.{os.getpid()}.part.mp4")
    process = _ffmpeg(["-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", f"{fps:g}",
                       "-i", "-", *ENCODE_ARGS, str(partial)], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    count = 0
    try:
        try:
            for frame in frames:
                process.stdin.write((match_colours(frame, anchor) if anchor else frame).tobytes())
                count += 1
            process.stdin.close()
        except BrokenPipeError:
            # The encoder stopped reading (a full disk, say): its exit status and stderr tell why.
            _close_quietly(frames)
        stderr = process.stderr.read().decode(errors="replace")
        if process.wait() != 0 or count == 0:
            reason = error_reason(stderr) or stderr.strip()[-400:]
            raise ClipError(f"encoding {out.name} failed after {count} frames: {reason}")
    except BaseException:
        process.kill()
        process.wait()
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, out)
    return count


def _close_quietly(frames: Iterator[np.ndarray]) -> None:
    """Stop the decoder behind `frames`; its own error would only hide the encoder's."""
    close = getattr(frames, "close", None)
    if close is not None:
        try:
            close()
        except FfmpegError:
            pass


def preview_clip(start_frame: Path, out: Path, *, duration_s: float, fps: float, zoom: float,
                 pan: tuple[float, float], anchor: Path | None = None) -> int:
    """A slow zoom and pan from `start_frame` (its first frame is the start frame), colour-matched."""
    width, height = image_size(start_frame)
    frames = max(2, round(duration_s * fps))
    last = frames - 1
    zoom_expr = f"1+{zoom - 1:.6f}*on/{last}"
    x = f"(iw-iw/zoom)/2+{pan[0]:.6f}*iw*on/{last}"
    y = f"(ih-ih/zoom)/2+{pan[1]:.6f}*ih*on/{last}"
    # zoompan clamps x/y into the picture; at on=0 zoom is 1 and the crop is the whole frame.
    graph = f"zoompan=z='{zoom_expr}':x='max(0,min(iw-iw/zoom,{x}))':y='max(0,min(ih-ih/zoom,{y}))'" \
            f":d={frames}:s={width}x{height}:fps={fps:g}"
    source = ["-i", str(start_frame), "-vf", graph, "-frames:v", str(frames)]
    stats = ChannelStats.of(load_rgb(anchor)) if anchor else None
    return _encode(_frames(source, width, height), out, width, height, fps, stats)


def colour_matched_copy(clip: Path, anchor: Path, out: Path) -> int:
    """`clip` re-encoded with every frame matched to `anchor`."""
    info = media_info(clip)
    if info.video is None:
        raise ClipError(f"{clip.name} has no video stream")
    video = info.video
    return _encode(_frames(["-i", str(clip)], video.width, video.height), out, video.width, video.height,
                   video.fps or 30.0, ChannelStats.of(load_rgb(anchor)))


def extract_last_frame(clip: Path, out: Path) -> Path:
    """The clip's exact last frame as PNG, checked to exist and to have the clip's size."""
    info = media_info(clip)
    if info.video is None:
        raise ClipError(f"{clip.name} has no video stream")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.stem}.{os.getpid()}.part.png")
    partial.unlink(missing_ok=True)
    try:
        # -sseof -0.01 can silently write nothing: seek three seconds back and take the last frame reversed.
        run_ffmpeg(["-y", "-sseof", "-3", "-i", str(clip), "-vf", "reverse", "-frames:v", "1", "-update", "1",
                    str(partial)])
        if not partial.is_file() or partial.stat().st_size == 0:
            raise ClipError(f"ffmpeg wrote no last frame for {clip.name}")
        size = image_size(partial)
        if size != (info.video.width, info.video.height):
            raise ClipError(f"last frame of {clip.name} is {size[0]}x{size[1]}, "
                            f"the clip {info.video.width}x{info.video.height}")
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)  # a failed or cut-off frame never stays beside the clip
    return out


def first_frame(clip: Path, out: Path) -> Path:
    run_ffmpeg(["-y", "-i", str(clip), "-frames:v", "1", str(out)])
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        raise ValueError(f"frames differ in size: {a.shape} and {b.shape}")
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))
