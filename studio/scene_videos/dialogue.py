"""A scene's dialogue spoken and placed: every line's audio (from the cache when it can), then the plan.

Speech failing is not the scene failing (audio is non-fatal): the first line (in playing order) that
could not be spoken is the problem reported, no dialogue track is made, and the lines are placed with estimated lengths so subtitles
still come with the video. Nothing failed is cached, so the next build asks again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.audio.line_cache import LineAudio, LineAudioCache
from studio.audio.tts import SpeechFailed
from studio.domain.dialogue_timing import (
    LineToPlace,
    TimingPlan,
    TimingRules,
    place_dialogue,
)
from studio.domain.voices import voice_for
from studio.media.ffmpeg import FfmpegError

# Used only to time subtitles when speech failed: a typical speaking rate, and a floor per line.
ESTIMATE_S_PER_CHAR = 0.07
ESTIMATE_MIN_S = 0.8


@dataclass
class SpokenDialogue:
    plan: TimingPlan
    audio: dict[tuple[int, int], LineAudio] = field(default_factory=dict)  # (shot, index) -> audio
    problem: str | None = None  # why there is no dialogue track

    @property
    def complete(self) -> bool:
        return self.problem is None

    def line_report(self) -> list[dict[str, Any]]:
        rows = []
        for p in self.plan.placements:
            audio = self.audio.get((p.shot, p.index))
            rows.append({"shot": p.shot + 1, "line": p.index + 1, "speaker": p.speaker, "start_s": p.start_s,
                         "end_s": p.end_s, "audio_key": audio.key if audio else None,
                         "synthesised": bool(audio and audio.synthesised)})
        return rows


def scene_lines(shots: Sequence[Mapping[str, Any]]) -> list[tuple[int, int, str, str, float | None]]:
    """(shot, index, speaker, text, offset_s) of every dialogue line, in playing order."""
    return [(k, i, d["character"], d["line"], d.get("offset_s"))
            for k, shot in enumerate(shots) for i, d in enumerate(shot.get("dialogue") or [])]


def _estimate_s(text: str) -> float:
    return round(max(ESTIMATE_MIN_S, len(text) * ESTIMATE_S_PER_CHAR), 3)


async def speak_dialogue(shots: Sequence[Mapping[str, Any]], clip_durations_s: Sequence[float],
                         cast: Mapping[str, Mapping[str, Any]], cache: LineAudioCache,
                         rules: TimingRules) -> SpokenDialogue:
    # Two lines in flight: piper speaks one while ffmpeg shapes the one before (a live server gets two).
    gate = asyncio.Semaphore(2)

    async def one(speaker: str, text: str) -> LineAudio:
        async with gate:
            return await cache.line(voice_for(speaker, (cast.get(speaker) or {}).get("voice")), text)

    wanted = scene_lines(shots)
    results = await asyncio.gather(*(one(speaker, text) for _, _, speaker, text, _ in wanted), return_exceptions=True)
    audio: dict[tuple[int, int], LineAudio] = {}
    problem = None
    for (shot, index, speaker, _, _), result in zip(wanted, results):
        if isinstance(result, (SpeechFailed, FfmpegError, ValueError, OSError)):
            problem = f"speech failed at shot {shot + 1} line {index + 1} ({speaker}): {result}"
            break
        if isinstance(result, BaseException):
            raise result
        audio[(shot, index)] = result
    lines = [LineToPlace(shot, index, speaker, text,
                         audio[(shot, index)].duration_s if (shot, index) in audio else _estimate_s(text), offset)
             for shot, index, speaker, text, offset in scene_lines(shots)]
    plan = place_dialogue(clip_durations_s, lines, rules)
    return SpokenDialogue(plan, audio, problem)


def placed_audio(spoken: SpokenDialogue) -> list[tuple[float, Path]]:
    return [(p.start_s, spoken.audio[(p.shot, p.index)].path) for p in spoken.plan.placements]
