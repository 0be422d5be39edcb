"""Episode assembly: how close a cuts-only join comes to copying bytes, and how loud the result is.

(a) `assembly_vs_copy_ratio`: 20 scene clips with identical parameters (1280x720, 24 fps, H.264 with
    grain so the bitrate is a real one, AAC stereo at -16 LUFS as scene videos should be delivered),
    cuts only. The time `assemble_episode` takes (plan, loudness measure, one stream-copy mux) over
    the time to copy the same bytes with shutil.copyfile. Goal <= 2. Median of 3.
    `assembly_vs_copy_ratio_with_gain`: the same with scenes at -18..-20 LUFS, whose sound must be
    normalised and so decoded and re-encoded (loudnorm runs at 192 kHz; AAC encodes ~40x realtime).
(b) `episode_lufs_error`: scenes at very different levels (-35 to -8 LUFS) and one of loud bursts over
    a quiet bed, with fades and a clip of another size, assembled and placed in a Jellyfin tree; |integrated - (-16)| of the
    published file, measured again from the file. Goal <= 1.0.

Run: .venv/bin/python -m bench.bench_episodes
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.results import record
from studio.media.assemble import SceneVideo, assemble_episode
from studio.media.ffmpeg import run_ffmpeg
from studio.media.loudnorm import TARGET_I, TARGET_TP, measure

CLIPS = 20
CLIP_S = 4.0


def make_clip(path: Path, *, size: str, seconds: float, volume_db: float | None, frequency: int, seed: int) -> Path:
    """`volume_db` None: the sound normalised to -16 LUFS."""
    sound = f"volume={volume_db}dB" if volume_db is not None else "loudnorm=I=-16:TP=-2:LRA=11,aresample=48000"
    run_ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=24:duration={seconds}",
                "-f", "lavfi", "-i", f"sine=frequency={frequency}:sample_rate=48000:duration={seconds}",
                "-vf", f"noise=alls=12:allf=t+u:all_seed={seed}", "-af", sound,
                "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-ac", "2", "-video_track_timescale", "12288", "-t", str(seconds), "-y", str(path)])
    return path


def copy_vs_assembly(work: Path, *, at_target: bool) -> dict[str, float]:
    clips = [make_clip(work / f"clip{i:02d}.mp4", size="1280x720", seconds=CLIP_S,
                       volume_db=None if at_target else -18 - (i % 3), frequency=300 + 20 * i, seed=i)
             for i in range(CLIPS)]
    total_bytes = sum(c.stat().st_size for c in clips)
    scenes = [SceneVideo(f"s{i}", f"Scene {i}", c) for i, c in enumerate(clips)]
    copies, assemblies, copy_only = [], [], True
    for attempt in range(3):
        target = work / f"copy{attempt}"
        target.mkdir(exist_ok=True)
        started = time.perf_counter()
        for c in clips:
            shutil.copyfile(c, target / c.name)
        copies.append(time.perf_counter() - started)
        started = time.perf_counter()
        done = assemble_episode(scenes, work / f"episode{attempt}.mp4", tags={"title": "bench"})
        assemblies.append(time.perf_counter() - started)
        copy_only = copy_only and done.copy_only
    copy_s, assembly_s = statistics.median(copies), statistics.median(assemblies)
    if not at_target:
        return {"assembly_vs_copy_ratio_with_gain": round(assembly_s / copy_s, 2)}
    return {"assembly_vs_copy_ratio": round(assembly_s / copy_s, 2), "assembly_20_clips_s": round(assembly_s, 3),
            "assembly_copy_20_clips_s": round(copy_s, 4), "assembly_20_clips_mb": round(total_bytes / 1e6, 1),
            "assembly_stream_copy": float(copy_only and done.normalization_type == "already_at_target")}


def published_loudness(work: Path) -> dict[str, float]:
    levels = [-35.0, -8.0, -24.0, -12.0]
    clips = [make_clip(work / f"loud{i}.mp4", size="320x180" if i != 2 else "400x200", seconds=4.0,
                       volume_db=level, frequency=220 * (i + 1), seed=100 + i) for i, level in enumerate(levels)]
    scenes = [SceneVideo(f"l{i}", f"Level {level}", c, "fade" if i else "cut", 0.5 if i else 0.0)
              for i, (c, level) in enumerate(zip(clips, levels))]
    # Speech-like bursts near full scale over a quiet bed: loudnorm's dynamic fallback alone lands short.
    bursts = work / "bursts.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24:duration=6", "-f", "lavfi", "-i",
                "aevalsrc='0.95*sin(2*PI*440*t)*lt(mod(t,1),0.08)+0.02*sin(2*PI*220*t)':s=48000:d=6",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2",
                "-video_track_timescale", "12288", "-t", "6", "-y", str(bursts)])
    scenes.append(SceneVideo("bursts", "Bursts", bursts, "dissolve", 0.5))
    done = assemble_episode(scenes, work / "media" / "loud.mp4", tags={})
    # Published as the library gets it: a hard link (or copy) of the same bytes, measured from the tree.
    published = work / "library" / "Show (2026)" / "Season 01" / "Show S01E01 - Loud.mp4"
    published.parent.mkdir(parents=True)
    shutil.copyfile(done.path, published)
    measured = measure(published)
    return {"episode_lufs_error": round(abs(measured.integrated - TARGET_I), 2),
            "episode_true_peak_dbtp": round(measured.true_peak, 2),
            "episode_true_peak_under_ceiling": float(measured.true_peak <= TARGET_TP),
            "episode_loudness_normalization_linear": float(done.normalization_type == "linear"),
            "episode_loudness_corrected": float("+" in done.normalization_type)}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-episodes-") as tmp:
        work = Path(tmp)
        figures = copy_vs_assembly(work, at_target=True)
        figures.update(copy_vs_assembly(work, at_target=False))
        figures.update(published_loudness(work))
    record(figures)


if __name__ == "__main__":
    main()
