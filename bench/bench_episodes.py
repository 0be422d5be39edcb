"""Episode assembly: how close a cuts-only join comes to copying bytes, and how loud the result is.

(a) `assembly_vs_copy_ratio`: 20 scene clips with identical parameters (1280x720, 24 fps, H.264 with
    grain: ~28 MB each, 560 MB in all), cuts only, their sound delivered as scene videos are (brought
    to -16 LUFS and tagged with its loudness, studio/scene_videos/sound_delivery.py). The time
    `assemble_episode` takes (headers read from the MP4 boxes, one stream-copy mux) over the time to
    copy the same bytes with shutil.copyfile. Goal <= 2. Median of ROUNDS; a round times the copy, a `cp` process
    copying the 20 files, and the assembly, each after an os.sync(); `_min`/`_max` give the spread.
    `assembly_vs_cp_ratio` is the same over `cp`; the `_cpu_ratio`s compare CPU seconds (user +
    system) instead, which a loaded machine disturbs less than wall time.
    `assembly_vs_copy_ratio_with_gain`: the same with untagged scenes at -18..-20 LUFS, whose sound
    must be measured, decoded and re-encoded (loudnorm runs at 192 kHz; AAC encodes ~40x realtime).
(b) `episode_lufs_error`: scenes at very different levels (-35 to -8 LUFS) and one of loud bursts over
    a quiet bed, with fades and a clip of another size, assembled and placed in a Jellyfin tree; |integrated - (-16)| of the
    published file, measured again from the file. Goal <= 1.0.

Run: .venv/bin/python -m bench.bench_episodes
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.results import record
from studio.media.assemble import SceneVideo, assemble_episode
from studio.media.ffmpeg import run_ffmpeg
from studio.media.loudnorm import TARGET_I, TARGET_TP, measure
from studio.scene_videos.sound_delivery import deliver_sound, mux_scene_video

CLIPS = 20
CLIP_S = 4.0
ROUNDS = 5


def _picture(seed: int) -> list[str]:
    """Output options of the picture (input 0)."""
    return ["-vf", f"noise=alls=12:allf=t+u:all_seed={seed}", "-c:v", "libx264", "-preset", "ultrafast",
            "-crf", "18", "-pix_fmt", "yuv420p", "-video_track_timescale", "12288"]


def make_clip(path: Path, *, size: str, seconds: float, volume_db: float, frequency: int, seed: int) -> Path:
    """A clip whose sound is as it was made (no loudness tags)."""
    run_ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=24:duration={seconds}",
                "-f", "lavfi", "-i", f"sine=frequency={frequency}:sample_rate=48000:duration={seconds}",
                *_picture(seed), "-af", f"volume={volume_db}dB", "-c:a", "aac", "-ac", "2", "-t", str(seconds), "-y", str(path)])
    return path


def make_delivered_clip(path: Path, *, size: str, seconds: float, frequency: int, seed: int) -> Path:
    """A clip made as a scene video is: its mix delivered at -16 LUFS and tagged, then muxed by copy."""
    picture, mix = path.with_name(f"{path.stem}-picture.mp4"), path.with_name(f"{path.stem}-mix.wav")
    run_ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=24:duration={seconds}", *_picture(seed),
                "-t", str(seconds), "-y", str(picture)])
    run_ffmpeg(["-f", "lavfi", "-i", f"sine=frequency={frequency}:sample_rate=48000:duration={seconds}",
                "-af", "volume=-12dB", "-ac", "1", "-c:a", "pcm_s16le", "-y", str(mix)])
    sound = deliver_sound(mix, path.with_name(f"{path.stem}-sound.m4a"))
    mux_scene_video(picture, sound, None, path)
    for temporary in (picture, mix, sound.path):
        temporary.unlink()
    return path


def _cpu_s() -> float:
    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def _timed(action) -> tuple[float, float]:
    """(wall, CPU) seconds of `action`, this process and the processes it waited for."""
    # Each timing starts with no dirty pages (written back outside the timing): otherwise whichever
    # runs after a 560 MB write pays for its writeback, and the order decides the ratio.
    os.sync()
    started, cpu = time.perf_counter(), _cpu_s()
    action()
    return time.perf_counter() - started, _cpu_s() - cpu


def copy_vs_assembly(work: Path, *, at_target: bool) -> dict[str, float]:
    folder = work / ("delivered" if at_target else "untagged")
    folder.mkdir()
    clips = [make_delivered_clip(folder / f"clip{i:02d}.mp4", size="1280x720", seconds=CLIP_S,
                                 frequency=300 + 20 * i, seed=i) if at_target else
             make_clip(folder / f"clip{i:02d}.mp4", size="1280x720", seconds=CLIP_S, volume_db=-18 - (i % 3),
                       frequency=300 + 20 * i, seed=i)
             for i in range(CLIPS)]
    scenes = [SceneVideo(f"s{i}", f"Scene {i}", c) for i, c in enumerate(clips)]
    target, episode, done = work / "copy", work / "episode.mp4", []
    actions = {"copyfile": lambda: [shutil.copyfile(c, target / c.name) for c in clips],
               "cp": lambda: subprocess.run(["cp", *map(str, clips), str(target)], check=True),
               "assembly": lambda: done.append(assemble_episode(scenes, episode, tags={"title": "bench"}))}
    rounds: list[dict[str, tuple[float, float]]] = []
    for _ in range(ROUNDS if at_target else 3):
        timings = {}
        for name, action in actions.items():
            target.mkdir()
            timings[name] = _timed(action)
            shutil.rmtree(target)
            episode.unlink(missing_ok=True)
        rounds.append(timings)

    def ratios(over: str, part: int = 0) -> list[float]:
        return [r["assembly"][part] / r[over][part] for r in rounds]

    def median(name: str) -> float:
        return statistics.median(r[name][0] for r in rounds)
    if not at_target:
        return {"assembly_vs_copy_ratio_with_gain": round(statistics.median(ratios("copyfile")), 2)}
    return {"assembly_vs_copy_ratio": round(statistics.median(ratios("copyfile")), 2),
            "assembly_vs_copy_ratio_min": round(min(ratios("copyfile")), 2),
            "assembly_vs_copy_ratio_max": round(max(ratios("copyfile")), 2),
            "assembly_vs_cp_ratio": round(statistics.median(ratios("cp")), 2),
            "assembly_vs_cp_ratio_min": round(min(ratios("cp")), 2),
            "assembly_vs_cp_ratio_max": round(max(ratios("cp")), 2),
            "assembly_vs_copy_cpu_ratio": round(statistics.median(ratios("copyfile", 1)), 2),
            "assembly_vs_cp_cpu_ratio": round(statistics.median(ratios("cp", 1)), 2),
            "assembly_20_clips_s": round(median("assembly"), 3),
            "assembly_copy_20_clips_s": round(median("copyfile"), 4),
            "assembly_cp_20_clips_s": round(median("cp"), 4),
            "assembly_20_clips_mb": round(sum(c.stat().st_size for c in clips) / 1e6, 1),
            "assembly_stream_copy": float(all(d.copy_only and d.normalization_type == "already_at_target"
                                              and d.loudness_source == "scene tags" for d in done))}


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
