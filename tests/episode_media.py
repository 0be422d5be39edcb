"""Tiny scene videos made with real ffmpeg (testsrc + sine) for the episode tests and bench."""

from __future__ import annotations

from pathlib import Path

from studio.media.ffmpeg import run_ffmpeg
from studio.scene_videos.sound_delivery import deliver_sound, mux_scene_video


def make_scene_clip(path: Path, *, duration_s: float = 1.5, size: str = "160x90", fps: int = 24,
                    frequency: int = 440, volume_db: float = -20.0, audio: bool = True,
                    sample_rate: int = 48000, pattern: str = "testsrc", srt: str | None = None,
                    loudness_lufs: float | None = None, preset: str = "ultrafast") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    args = ["-f", "lavfi", "-i", f"{pattern}=size={size}:rate={fps}:duration={duration_s}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency={frequency}:sample_rate={sample_rate}:duration={duration_s}",
                 "-af", f"volume={volume_db}dB" if loudness_lufs is None else
                 f"loudnorm=I={loudness_lufs}:TP=-2:LRA=11,aresample={sample_rate}", "-c:a", "aac", "-ac", "2"]
    args += ["-c:v", "libx264", "-preset", preset, "-pix_fmt", "yuv420p", "-video_track_timescale", "12288",
             "-t", str(duration_s), "-y", str(path)]
    run_ffmpeg(args)
    if srt is not None:
        path.with_suffix(".srt").write_text(srt, encoding="utf-8")
    return path


def make_delivered_clip(path: Path, *, duration_s: float = 2.0, size: str = "160x90", frequency: int = 440,
                        volume_db: float = -20.0) -> Path:
    """A scene video as the studio delivers one: its sound brought to -16 LUFS, its loudness in its tags."""
    path.parent.mkdir(parents=True, exist_ok=True)
    picture, mix = path.with_name(f"{path.stem}-picture.mp4"), path.with_name(f"{path.stem}-mix.wav")
    run_ffmpeg(["-f", "lavfi", "-i", f"testsrc=size={size}:rate=24:duration={duration_s}", "-c:v", "libx264",
                "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-video_track_timescale", "12288", "-y", picture])
    run_ffmpeg(["-f", "lavfi", "-i", f"sine=frequency={frequency}:sample_rate=48000:duration={duration_s}",
                "-af", f"volume={volume_db}dB", "-ac", "1", "-c:a", "pcm_s16le", "-y", mix])
    mux_scene_video(picture, deliver_sound(mix, path.with_name(f"{path.stem}-sound.m4a")), None, path)
    return path
