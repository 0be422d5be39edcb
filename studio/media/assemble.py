"""Joining an episode's scene videos into one MP4: cuts, transitions, loudness, chapters, tags.

The plan (studio/domain/episode_timeline.py) splits the scenes into groups joined by cuts. A group
whose clips share every stream parameter is joined by the concat demuxer with stream copy: no frame
is decoded or encoded. A clip that differs is normalised first (studio/media/normalise.py). Groups
are then joined by xfade + acrossfade at offset_k = (d_0 + ... + d_{k-1}) - (T_1 + ... + T_k), which
re-encodes the picture. The sound gets two-pass loudness normalisation (studio/media/loudnorm.py)
in the final mux, where chapters and provenance tags are written too; with a single copied group
the picture is still copied there. The finished file is written under a temporary name and renamed.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from studio.domain.episode_timeline import (TRANSITIONS, AssemblePlan, Chapter, TimelineClip, assemble_plan,
                                            group_offsets)
from studio.media.clips import ENCODE_ARGS
from studio.media.ffmetadata import ffmetadata
from studio.media.ffmpeg import FfmpegError, MediaInfo, media_info, run_ffmpeg
from studio.media.loudnorm import Loudness, applied_normalisation, measure, plan_normalisation
from studio.media.normalise import ClipParameters, clip_parameters, fallback_target, normalise_clip


@dataclass(frozen=True)
class SceneVideo:
    scene: str
    title: str
    path: Path
    transition: str = "cut"  # into this scene from the one before
    transition_s: float = 0.0


@dataclass
class AssembledEpisode:
    path: Path
    duration_s: float  # planned: sum of scene lengths less the transitions (the picture's exact length)
    container_duration_s: float  # what the file's header says (the AAC encoder's last frame overhangs)
    copy_only: bool  # no frame was re-encoded
    copied_joins: list[int]
    normalised_scenes: list[str]
    normalization_type: str
    input_loudness: Loudness
    scene_starts_s: list[float]
    chapters: list[Chapter] = field(default_factory=list)


def _concat_copy(paths: Sequence[Path], out: Path) -> Path:
    listing = out.with_suffix(".txt")
    # The concat list quotes paths; a quote inside one is closed, escaped and reopened.
    listing.write_text("".join("file '{}'\n".format(str(p.resolve()).replace("'", "'\\''")) for p in paths))
    run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), "-map", "0:v:0", "-map", "0:a:0",
                "-c", "copy", "-y", str(out)])
    return out


def _transition_graph(plan: AssemblePlan, durations: Sequence[float]) -> tuple[str, str]:
    """(video graph ending in [v], audio graph ending in [a]) over inputs 0..n-1, one per group.

    Each group's sound is padded or trimmed to its planned length first: AAC frames overhang the
    picture by a few milliseconds per clip, and across a crossfade that would shift every later offset.
    """
    offsets = group_offsets(plan, durations)
    sounds = [f"[{k}:a]apad,atrim=duration={d:.6f},asetpts=PTS-STARTPTS[s{k}]" for k, d in enumerate(durations)]
    if len(plan.groups) == 1:
        return "[0:v]null[v]", sounds[0].replace("[s0]", "[a]")
    video, audio, last_v, last_a = [], sounds, "[0:v]", "[s0]"
    for k, group in enumerate(plan.groups[1:], 1):
        out_v, out_a = ("[v]", "[a]") if k == len(plan.groups) - 1 else (f"[v{k}]", f"[a{k}]")
        video.append(f"{last_v}[{k}:v]xfade=transition={TRANSITIONS[group.transition_in]}"
                     f":duration={group.transition_s}:offset={offsets[k]}{out_v}")
        audio.append(f"{last_a}[s{k}]acrossfade=d={group.transition_s}:c1=tri:c2=tri{out_a}")
        last_v, last_a = out_v, out_a
    return ";".join(video), ";".join(audio)


def _join_groups(scenes: Sequence[SceneVideo], infos: Sequence[MediaInfo], plan: AssemblePlan,
                 target: ClipParameters, work: Path) -> tuple[list[Path], list[str]]:
    group_files, normalised = [], []
    for g, group in enumerate(plan.groups):
        paths = []
        for i in group.indexes:
            if i in group.normalise:
                paths.append(normalise_clip(scenes[i].path, infos[i], target, work / f"norm-{i}.mp4"))
                normalised.append(scenes[i].scene)
            else:
                paths.append(scenes[i].path)
        group_files.append(paths[0] if len(paths) == 1 else _concat_copy(paths, work / f"group-{g}.mp4"))
    return group_files, normalised


def assemble_episode(scenes: Sequence[SceneVideo], out: Path, *, tags: Mapping[str, str],
                     chapter_titles: Sequence[str] | None = None) -> AssembledEpisode:
    """Join `scenes` in order into `out`. `tags` become MP4 tags (custom keys kept via use_metadata_tags)."""
    infos = [media_info(s.path) for s in scenes]
    timeline = [TimelineClip(s.scene, s.title, i.duration_s, s.transition, s.transition_s)
                for s, i in zip(scenes, infos)]
    parameters = [clip_parameters(i) for i in infos]
    plan = assemble_plan(timeline, parameters)
    target = plan.target if plan.target is not None else fallback_target(infos[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".assemble-") as tmp:
        work = Path(tmp)
        group_files, normalised = _join_groups(scenes, infos, plan, target, work)
        # Planned, not measured: a concat output's container length includes the AAC overhang.
        durations = [sum(infos[i].duration_s for i in group.indexes) for group in plan.groups]
        video_graph, audio_graph = _transition_graph(plan, durations)
        inputs = [arg for p in group_files for arg in ("-i", str(p))]
        copy_picture = len(group_files) == 1

        # Pass 1 measures the joined sound (audio only: cheap even when the picture is re-encoded).
        joined_audio = work / "audio.wav"
        run_ffmpeg([*inputs, "-filter_complex", audio_graph, "-map", "[a]", "-c:a", "pcm_s16le", "-y",
                    str(joined_audio)])
        total = group_offsets(plan, durations)[-1] + durations[-1]
        loudness = measure(joined_audio)
        loud_plan = plan_normalisation(loudness, total)

        starts = [0.0] * len(scenes)
        group_starts = group_offsets(plan, durations)
        for g, group in enumerate(plan.groups):
            elapsed = group_starts[g]
            for i in group.indexes:
                starts[i] = round(elapsed, 3)
                elapsed += infos[i].duration_s
        ends = starts[1:] + [total]
        titles = chapter_titles or [s.title or s.scene for s in scenes]
        episode_chapters = [Chapter(t, s, e) for t, s, e in zip(titles, starts, ends)]
        metadata = work / "metadata.txt"
        metadata.write_text(ffmetadata(tags, episode_chapters), encoding="utf-8")

        meta_index = len(group_files)
        graph = f"{audio_graph};[a]{loud_plan.audio_filter}[aout]"
        if copy_picture:
            video_args = ["-map", "0:v:0", "-c:v", "copy"]
        else:
            graph = f"{video_graph};{graph}"
            video_args = ["-map", "[v]", *ENCODE_ARGS[:-2]]
        partial = out.with_name(f".{out.name}.{os.getpid()}.part.mp4")
        try:
            stderr = run_ffmpeg([*inputs, "-f", "ffmetadata", "-i", str(metadata), "-filter_complex", graph,
                                 *video_args, "-map", "[aout]", "-c:a", "aac", "-b:a", "192k",
                                 "-map_metadata", str(meta_index), "-map_chapters", str(meta_index),
                                 "-movflags", "+faststart+use_metadata_tags", "-y", str(partial)])
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    final = media_info(out)
    return AssembledEpisode(
        path=out, duration_s=round(total, 3), container_duration_s=final.duration_s, copy_only=plan.copy_only and copy_picture,
        copied_joins=plan.copied_joins(), normalised_scenes=normalised,
        normalization_type=applied_normalisation(loud_plan, stderr), input_loudness=loudness,
        scene_starts_s=starts, chapters=episode_chapters)


def thumbnail(video: Path, out: Path, *, at_s: float) -> Path:
    """One JPEG frame; ffmpeg can exit 0 having written nothing, so the file is checked."""
    partial = out.with_name(f".{out.name}.{os.getpid()}.part.jpg")
    try:
        try:
            run_ffmpeg(["-ss", f"{max(0.0, at_s):.3f}", "-i", str(video), "-frames:v", "1", "-q:v", "3",
                        "-y", str(partial)])
        except FfmpegError:
            pass  # past the end nothing is decoded and the encoder never opens: the check below says so
        if not partial.is_file() or partial.stat().st_size == 0:
            raise RuntimeError(f"{video}: no frame at {at_s:.2f} s for a thumbnail")
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return out
