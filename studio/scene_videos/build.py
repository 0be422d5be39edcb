"""Building one scene's video: its clips joined, its sound mixed, its subtitles beside it and inside it.

No clip is ever rendered here: the clips are shot_clips' files, read as they are. The joined
picture is kept under a name made of the clips' identities and the shots' hold times, so a change of
dialogue or music that does not lengthen a shot re-mixes the sound and re-muxes (stream copy) only.
Audio is non-fatal: speech or music failing leaves a valid video with whatever sound could be made
(silence at worst), and the report says what is missing and why; nothing failed is cached.
The sound is delivered at the episode's loudness target (studio/scene_videos/sound_delivery.py) and
its measured loudness is written into the MP4's tags, so an episode of scenes joined by cuts copies it.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from studio.audio.line_cache import LineAudioCache
from studio.audio.mix import MixSettings, dialogue_track, mix_scene
from studio.audio.music import MusicUnavailable, chosen_source, resolve_music
from studio.audio.tts import Synthesizer
from studio.domain.dialogue_subtitles import dialogue_cues
from studio.domain.dialogue_timing import TimingRules
from studio.domain.subtitles import to_srt, to_webvtt
from studio.media.concat import join_clips
from studio.media.ffmpeg import FfmpegError, media_info
from studio.media.silence import parse_silencedetect
from studio.media.streams import stream_duration
from studio.media_layout import scene_dir, scene_video_path
from studio.scene_videos.dialogue import placed_audio, speak_dialogue
from studio.scene_videos.repository import scene_source
from studio.scene_videos.sound_delivery import DeliveredSound, deliver_sound, mux_scene_video

# Silence regions reported in the metadata: quieter than this for at least this long.
SILENCE_NOISE_DB = -40.0
SILENCE_MIN_S = 0.3
SILENCE_FILTER = f"silencedetect=noise={SILENCE_NOISE_DB}dB:d={SILENCE_MIN_S}"


class SceneNotReady(RuntimeError):
    """The scene has no picture to build on yet (a shot without its clip)."""


@dataclass(frozen=True)
class SceneSoundOptions:
    mix: MixSettings = field(default_factory=MixSettings)
    music_urls_allowed: bool = False
    speaker_names: bool = True  # subtitles start with who speaks
    lead_in_s: float = 0.25
    gap_s: float = 0.3
    tail_s: float = 0.25
    lengthen_shots: bool = True


@dataclass
class SceneVideoReport:
    scene: str
    path: Path
    srt_path: Path | None
    vtt_path: Path | None
    duration_s: float
    join: dict[str, Any]
    audio_state: str  # "complete" | "partial" (see audio_problems) | "silent" (nothing to say or play)
    audio_problems: list[str]
    sound: str  # what went into the mix
    music: str | None
    lines: list[dict[str, Any]]
    timing_problems: list[str]
    held_s: list[float]
    # as delivered: brought to -16 LUFS by one gain (gain_db), measured after the AAC encode
    loudness: dict[str, Any] = field(default_factory=dict)
    silences: list[dict] = field(default_factory=list)
    av_difference_s: float = 0.0

    @property
    def synthesised(self) -> int:
        return sum(1 for line in self.lines if line["synthesised"])


def _finite(value: float) -> float | None:
    return round(value, 2) if math.isfinite(value) else None


def _joined_name(clips: list[Path], holds: tuple[float, ...]) -> str:
    identity = [(str(c), c.stat().st_size, c.stat().st_mtime_ns) for c in clips]
    return ".joined-" + hashlib.sha256(repr((identity, holds)).encode()).hexdigest()[:16] + ".mp4"


def _joined_video(clips: list[Path], holds: tuple[float, ...], folder: Path) -> tuple[Path, dict]:
    path = folder / _joined_name(clips, holds)
    if path.is_file():
        return path, {"method": "kept", "reason": "clips and holds unchanged since the last build"}
    for old in folder.glob(".joined-*.mp4"):
        old.unlink(missing_ok=True)
    joined = join_clips(clips, path, holds=holds)
    return path, {"method": joined.method, "reason": joined.reason}


async def build_scene_video(conn: asyncpg.Connection, scene: str, media_root: Path, synthesizer: Synthesizer,
                            options: SceneSoundOptions = SceneSoundOptions()) -> SceneVideoReport:
    source = await scene_source(conn, scene)
    if not source.shots:
        raise SceneNotReady(f"scene {scene!r} has no shots")
    clips = []
    for shot in source.shots:
        clip = Path(media_root) / shot["clip_path"] if shot["clip_path"] else None
        if clip is None or not clip.is_file():
            raise SceneNotReady(f"scene {scene!r}: shot {shot['position']} has no clip yet (materialize shot_clips)")
        clips.append(clip)
    infos = [media_info(c) for c in clips]
    rules = TimingRules(options.lead_in_s, options.gap_s, options.tail_s, options.lengthen_shots,
                        infos[0].video.fps if infos[0].video and infos[0].video.fps else 24.0)
    spoken = await speak_dialogue(source.shots, [i.duration_s for i in infos], source.cast,
                                  LineAudioCache(media_root, synthesizer), rules)
    problems = [spoken.problem] if spoken.problem else []

    folder = scene_dir(media_root, scene)
    folder.mkdir(parents=True, exist_ok=True)
    joined, join = _joined_video(clips, spoken.plan.held_s, folder)
    duration = stream_duration(joined, "v")

    music_source = chosen_source(source.music, source.project_music)
    try:
        music = await resolve_music(music_source, media_root, urls_allowed=options.music_urls_allowed)
    except MusicUnavailable as exc:
        music, music_source = None, None
        problems.append(str(exc))

    names = {slug: c["name"] for slug, c in source.cast.items()} if options.speaker_names else None
    cues = dialogue_cues(spoken.plan.placements, names)
    out = scene_video_path(media_root, scene)
    srt_path, vtt_path = out.with_suffix(".srt"), out.with_suffix(".vtt")
    with tempfile.TemporaryDirectory(dir=folder, prefix=".build-") as tmp:
        tmp = Path(tmp)
        dialogue = None
        if spoken.complete and spoken.plan.placements:
            dialogue = dialogue_track(placed_audio(spoken), duration, tmp / "dialogue.wav")
        try:
            made = mix_scene(dialogue, music.path if music else None, duration, tmp / "mix.wav", options.mix)
        except FfmpegError as exc:
            problems.append(f"mixing failed: {exc}")
            made = mix_scene(None, None, duration, tmp / "mix.wav", options.mix)
        # Subtitles are made beside the video in the build folder and move into place with it, so
        # a failed build (a full disk) never leaves new subtitles beside the old video.
        if cues:
            (tmp / srt_path.name).write_text(to_srt(cues), encoding="utf-8")
            (tmp / vtt_path.name).write_text(to_webvtt(cues), encoding="utf-8")
        sound = deliver_sound(tmp / "mix.wav", tmp / "sound.m4a", analysis_filter=SILENCE_FILTER)
        mux_scene_video(joined, sound, tmp / srt_path.name if cues else None, tmp / out.name)
        for subtitles in ((srt_path, vtt_path) if cues else ()):
            os.replace(tmp / subtitles.name, subtitles)
        os.replace(tmp / out.name, out)
        if not cues:
            srt_path.unlink(missing_ok=True)
            vtt_path.unlink(missing_ok=True)

    has_sources = bool(spoken.plan.placements) or music_source is not None
    state = "partial" if problems else ("complete" if has_sources else "silent")
    report = SceneVideoReport(scene, out, srt_path if cues else None, vtt_path if cues else None,
                              round(duration, 3), join, state, problems, made, music_source,
                              spoken.line_report(), [p.message for p in spoken.plan.problems],
                              list(spoken.plan.held_s))
    _measure(report, sound)
    return report


def _measure(report: SceneVideoReport, sound: DeliveredSound) -> None:
    """Loudness and silences come from the delivered sound's measuring read; the A/V difference from
    the file."""
    loud = sound.loudness
    report.loudness = {"integrated_lufs": _finite(loud.integrated), "true_peak_dbtp": _finite(loud.true_peak),
                       "gain_db": sound.gain_db, "normalization": sound.normalization}
    audio, video = stream_duration(report.path, "a"), stream_duration(report.path, "v")
    report.silences = [s.as_dict() for s in parse_silencedetect(sound.analysis, audio)]
    report.av_difference_s = round(abs((audio or 0.0) - (video or 0.0)), 4)
