"""Joining an episode's scene videos into one MP4: cuts, transitions, loudness, chapters, tags.

The plan (studio/domain/episode_timeline.py) splits the scenes into groups joined by cuts. A group
whose clips share every stream parameter is joined by the concat demuxer with stream copy: no frame
is decoded or encoded. A clip that differs is normalised first (studio/media/normalise.py). Groups
are then joined by xfade + acrossfade at offset_k = (d_0 + ... + d_{k-1}) - (T_1 + ... + T_k), which
re-encodes the picture. The sound gets two-pass loudness normalisation (studio/media/loudnorm.py)
in the final mux, where chapters and provenance tags are written too; with a single copied group
the picture is still copied there. Scene videos are delivered at the loudness target and say so in
their tags (studio/media/loudness_tags.py): when every scene does and the joined estimate is within
tolerance, a single copied group keeps its sound unread, and the assembly is one stream-copy mux.
The finished file is written under a temporary name and renamed.
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from studio.domain.episode_timeline import (TRANSITIONS, AssemblePlan, Chapter, TimelineClip, assemble_plan,
                                            group_offsets)
from studio.media.clips import ENCODE_ARGS
from studio.media.ffmetadata import ffmetadata
from studio.media.ffmpeg import FfmpegError, MediaInfo, run_ffmpeg, write_concat_list
from studio.media.ebur128 import measure_ebur128, parse_ebur128
from studio.media.loudness_tags import joined_loudness
from studio.media.loudnorm import (AT_TARGET_LU, TARGET_I, Loudness, LoudnessPlan, applied_normalisation, closer,
                                   correction_filter, needs_correction, plan_normalisation)
from studio.media.normalise import ClipParameters, clip_parameters, fallback_target, normalise_clip
from studio.media.mp4_boxes import movie_duration
from studio.media.probe import QUICK_PROBE, ProbedScene, header_info, probe_scenes


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
    output_loudness: Loudness
    scene_starts_s: list[float]
    chapters: list[Chapter] = field(default_factory=list)
    # "measured": the joined sound was read; "scene tags": every scene was delivered at the target
    # and carries its loudness, so the sound was copied unread and its loudness is their estimate.
    loudness_source: str = "measured"


def _concat_input(paths: Sequence[Path], listing: Path, *, same_config: bool) -> list[str]:
    """Input arguments reading `paths` one after another by stream copy (no intermediate file).

    When every file has the same decoder configuration the packets go to the muxer as they are: no
    probe of each file (which decodes a frame) and no conversion of H.264 to Annex B and back, which
    the demuxer otherwise does so that a file with other parameter sets carries them in-band."""
    if len(paths) == 1:
        return ["-i", str(paths[0])]
    options = "".join(f"option {k.lstrip('-')} {v}\n" for k, v in zip(QUICK_PROBE[::2], QUICK_PROBE[1::2]))
    write_concat_list(paths, listing, options if same_config else "")
    return ["-f", "concat", "-safe", "0", *(["-auto_convert", "0"] if same_config else []), "-i", str(listing)]


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


def _group_inputs(scenes: Sequence[SceneVideo], probed: Sequence[ProbedScene], plan: AssemblePlan,
                  target: ClipParameters, work: Path) -> tuple[list[str], list[str]]:
    inputs, normalised = [], []
    for g, group in enumerate(plan.groups):
        paths = []
        for i in group.indexes:
            if i in group.normalise:
                paths.append(normalise_clip(scenes[i].path, probed[i].info, target, work / f"norm-{i}.mp4"))
                normalised.append(scenes[i].scene)
            else:
                paths.append(scenes[i].path)
        same_config = not group.normalise and len({probed[i].video_config for i in group.indexes} - {""}) == 1 \
            and all(probed[i].video_config for i in group.indexes)
        inputs += _concat_input(paths, work / f"group-{g}.txt", same_config=same_config)
    return inputs, normalised


def _tagged_at_target(probed: Sequence[ProbedScene], total_s: float) -> tuple[Loudness, LoudnessPlan] | None:
    """(estimated loudness, plan) when every scene carries its loudness and joined they are at the
    target; then the sound is copied without a read of it."""
    if any(p.loudness is None for p in probed):
        return None
    estimate = joined_loudness([(p.loudness, p.info.duration_s) for p in probed])
    # The estimate can miss the joined sound's gated loudness by a few tenths (the whole's relative
    # gate admits blocks the parts' did not, most with bursts over silence): trusted within half the
    # tolerance only, where scenes are delivered (studio/scene_videos/sound_delivery.py AIM_LU).
    if abs(estimate.integrated - TARGET_I) > AT_TARGET_LU / 2:
        return None
    plan = plan_normalisation(estimate, total_s, can_copy=True)
    return (estimate, plan) if plan.copy_audio else None


def _moov_bytes(duration_s: float, target: ClipParameters, metadata: Path) -> int:
    """A generous guess of the MP4 index: ~24 bytes per video frame and per AAC frame, plus tags."""
    samples = duration_s * (target.video.fps + target.audio.sample_rate / 1024) + 64
    return int(24 * samples + 2 * metadata.stat().st_size + 65536)


def _measure_joined(inputs: list[str], audio_graph: str) -> Loudness:
    """Pass 1 over the joined sound as the episode will have it; ebur128 reads it ~7x faster than
    loudnorm's own first pass and gives the same EBU R128 figures for loudnorm's measured_*."""
    stderr = run_ffmpeg([*inputs, "-filter_complex", f"{audio_graph};[a]ebur128=peak=true:framelog=quiet[m]",
                         "-map", "[m]", "-f", "null", "-"])
    return parse_ebur128(stderr)


def _write_mp4(mux: list[str], partial: Path, moov_bytes: int) -> str:
    """The index goes first so players start at once; reserving its room up front writes the file in one
    pass (faststart would write it twice). A guess too small fails, and then faststart does it."""
    try:
        return run_ffmpeg([*mux, "-moov_size", str(moov_bytes), "-movflags", "+use_metadata_tags", "-y", str(partial)])
    except FfmpegError:
        return run_ffmpeg([*mux, "-movflags", "+faststart+use_metadata_tags", "-y", str(partial)])


def _chapters(plan: AssemblePlan, infos: Sequence[MediaInfo], durations: Sequence[float], total: float,
              titles: Sequence[str]) -> tuple[list[float], list[Chapter]]:
    starts = [0.0] * len(infos)
    for group, elapsed in zip(plan.groups, group_offsets(plan, durations)):
        for i in group.indexes:
            starts[i] = round(elapsed, 3)
            elapsed += infos[i].duration_s
    ends = starts[1:] + [total]
    return starts, [Chapter(t, s, e) for t, s, e in zip(titles, starts, ends)]


def assemble_episode(scenes: Sequence[SceneVideo], out: Path, *, tags: Mapping[str, str],
                     chapter_titles: Sequence[str] | None = None) -> AssembledEpisode:
    """Join `scenes` in order into `out`. `tags` become MP4 tags (custom keys kept via use_metadata_tags)."""
    probed = probe_scenes([s.path for s in scenes], pixel_formats=False)
    timeline = [TimelineClip(s.scene, s.title, p.info.duration_s, s.transition, s.transition_s)
                for s, p in zip(scenes, probed)]
    plan = assemble_plan(timeline, [clip_parameters(p.info, p.video_config) for p in probed])
    if not (plan.copy_only and len(plan.groups) == 1):
        # Something is encoded: the target's pixel format must be known (a probe decodes a frame).
        probed = probe_scenes([s.path for s in scenes])
        plan = assemble_plan(timeline, [clip_parameters(p.info, p.video_config) for p in probed])
    infos = [p.info for p in probed]
    target = plan.target if plan.target is not None else fallback_target(infos[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".assemble-") as tmp:
        work = Path(tmp)
        inputs, normalised = _group_inputs(scenes, probed, plan, target, work)
        # Planned, not measured: a concat output's container length includes the AAC overhang.
        durations = [sum(infos[i].duration_s for i in group.indexes) for group in plan.groups]
        video_graph, audio_graph = _transition_graph(plan, durations)
        copy_picture = len(plan.groups) == 1
        total = group_offsets(plan, durations)[-1] + durations[-1]
        starts, episode_chapters = _chapters(plan, infos, durations, total,
                                             chapter_titles or [s.title or s.scene for s in scenes])
        metadata = work / "metadata.txt"
        metadata.write_text(ffmetadata(tags, episode_chapters), encoding="utf-8")
        meta_args = ["-f", "ffmetadata", "-i", str(metadata), "-map_metadata", str(len(plan.groups)),
                     "-map_chapters", str(len(plan.groups))]
        video_args = ["-map", "0:v:0", "-c:v", "copy"] if copy_picture else ["-map", "[v]", *ENCODE_ARGS[:-2]]
        partial = out.with_name(f".{out.name}.{os.getpid()}.part.mp4")
        moov = _moov_bytes(total, target, metadata)
        # Only one copied group can keep its sound as it is (a crossfade re-encodes anyway).
        can_copy = copy_picture and plan.copy_only
        copy_mux = [*inputs, *meta_args, *video_args, "-map", "0:a:0", "-c:a", "copy"]
        try:
            known = _tagged_at_target(probed, total) if can_copy else None
            if known is not None:
                loudness, loud_plan = known
                copied_stderr = _write_mp4(copy_mux, partial, moov)
            else:
                # The copy is written while the sound is measured, on the other core; it is kept if the
                # sound is already at the target and replaced by a normalised mux if not.
                with ThreadPoolExecutor(max_workers=2) as pool:
                    measuring = pool.submit(_measure_joined, inputs, audio_graph)
                    copying = pool.submit(_write_mp4, copy_mux, partial, moov) if can_copy else None
                    loudness = measuring.result()
                    copied_stderr = copying.result() if copying is not None else ""
                loud_plan = plan_normalisation(loudness, total, can_copy=can_copy)

            def normalised_mux(audio_filter: str, to: Path) -> str:
                graph = f"{audio_graph};[a]{audio_filter}[aout]"
                return _write_mp4([*inputs, *meta_args, "-filter_complex",
                                   graph if copy_picture else f"{video_graph};{graph}", *video_args,
                                   "-map", "[aout]", "-c:a", "aac", "-b:a", "192k"], to, moov)

            stderr = copied_stderr if loud_plan.copy_audio else normalised_mux(loud_plan.audio_filter, partial)
            applied = applied_normalisation(loud_plan, stderr)
            # Copied sound is the measured sound; a normalised one is measured again, as written.
            output_loudness = loudness if loud_plan.copy_audio else measure_ebur128(partial)
            if needs_correction(loud_plan, output_loudness):
                # One more try (a missing gain, or compression); the better of the two files is kept.
                second = partial.with_name(partial.name + ".2.mp4")
                audio_filter, name = correction_filter(loud_plan, output_loudness)
                try:
                    normalised_mux(audio_filter, second)
                    retried = measure_ebur128(second)
                    if closer(output_loudness, retried):
                        os.replace(second, partial)
                        applied, output_loudness = f"{applied}+{name}", retried
                finally:
                    second.unlink(missing_ok=True)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    container_s = movie_duration(out)
    return AssembledEpisode(
        path=out, duration_s=round(total, 3),
        container_duration_s=round(container_s, 3) if container_s is not None else header_info(out).duration_s,
        copy_only=plan.copy_only and copy_picture, copied_joins=plan.copied_joins(), normalised_scenes=normalised,
        normalization_type=applied, input_loudness=loudness, output_loudness=output_loudness,
        scene_starts_s=starts, chapters=episode_chapters,
        loudness_source="scene tags" if known is not None else "measured")


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
