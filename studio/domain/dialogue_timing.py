"""Where each line of dialogue sits in a scene: the one placement rule, with no I/O.

A line is placed in its own shot, at the shot's start plus an offset (its own `offset_s`, else the
lead-in for the shot's first line), and never before the previous line has ended plus a gap, so the
lines of a scene play in order and never overlap, across shot boundaries too.

A shot too short for its lines (lead-in, lines, gaps and a tail) is reported, never silently cut.
The stated rule: with `lengthen_shots` (the default) the shot is lengthened to fit, rounded up to a
whole video frame, and the scene video holds the shot's last frame for the extra time. Without it the
line runs on into the next shot, whose lines then wait for it; the scene's last shot is lengthened
either way, since there is no next shot to run on into and the line would be cut.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

# Times are kept to the millisecond: subtitles and ffmpeg's adelay both count in milliseconds.
_MS = 1000


@dataclass(frozen=True)
class TimingRules:
    lead_in_s: float = 0.25  # from a shot's start to its first line
    gap_s: float = 0.3  # silence between two lines
    tail_s: float = 0.25  # after a shot's last line, before the shot ends
    lengthen_shots: bool = True
    fps: float = 24.0  # a lengthened shot is a whole number of frames


@dataclass(frozen=True)
class LineToPlace:
    shot: int  # index of the shot in the scene, from 0
    index: int  # index of the line in its shot, from 0
    speaker: str
    text: str
    duration_s: float  # of the line's synthesised speech
    offset_s: float | None = None  # wanted start, from the shot's start


@dataclass(frozen=True)
class Placement:
    shot: int
    index: int
    speaker: str
    text: str
    start_s: float  # from the scene's start
    end_s: float

    @property
    def duration_s(self) -> float:
        return round(self.end_s - self.start_s, 3)


@dataclass(frozen=True)
class LineTooLong:
    shot: int
    lines: tuple[int, ...]  # indexes of the shot's lines
    needed_s: float
    shot_duration_s: float
    action: Literal["lengthened", "runs into next shot"]

    @property
    def message(self) -> str:
        what = (f"lengthened to {self.needed_s:.3f} s (its last frame is held)" if self.action == "lengthened"
                else "its last line runs on into the next shot")
        return (f"shot {self.shot + 1}: dialogue needs {self.needed_s:.3f} s but the shot is "
                f"{self.shot_duration_s:.3f} s; {what}")


@dataclass(frozen=True)
class TimingPlan:
    placements: tuple[Placement, ...]
    planned_durations_s: tuple[float, ...]  # each shot as planned (its clip's length)
    shot_durations_s: tuple[float, ...]  # each shot as the scene plays it
    problems: tuple[LineTooLong, ...]

    @property
    def shot_starts_s(self) -> tuple[float, ...]:
        starts, t = [], 0.0
        for d in self.shot_durations_s:
            starts.append(round(t, 3))
            t += d
        return tuple(starts)

    @property
    def duration_s(self) -> float:
        return round(sum(self.shot_durations_s), 3)

    @property
    def held_s(self) -> tuple[float, ...]:
        """Per shot, how long its last frame is held past its clip."""
        return tuple(round(s - p, 3) for s, p in zip(self.shot_durations_s, self.planned_durations_s))


def _ms(seconds: float) -> float:
    return round(seconds * _MS) / _MS


def _whole_frames(seconds: float, fps: float) -> float:
    return _ms(math.ceil(seconds * fps - 1e-6) / fps)


def place_dialogue(shot_durations_s: Sequence[float], lines: Sequence[LineToPlace],
                   rules: TimingRules = TimingRules()) -> TimingPlan:
    """Place every line; `lines` may come in any order, they are played by (shot, index)."""
    for line in lines:
        if not 0 <= line.shot < len(shot_durations_s):
            raise ValueError(f"line {line.index} of shot {line.shot + 1}: the scene has {len(shot_durations_s)} shots")
        if line.duration_s <= 0:
            raise ValueError(f"line {line.index} of shot {line.shot + 1}: its audio has no length")
    by_shot: dict[int, list[LineToPlace]] = {}
    for line in sorted(lines, key=lambda x: (x.shot, x.index)):
        by_shot.setdefault(line.shot, []).append(line)

    placements: list[Placement] = []
    durations: list[float] = []
    problems: list[LineTooLong] = []
    shot_start, last_end = 0.0, None
    for k, planned in enumerate(shot_durations_s):
        shot_lines = by_shot.get(k, [])
        for n, line in enumerate(shot_lines):
            wanted = line.offset_s if line.offset_s is not None else (rules.lead_in_s if n == 0 else 0.0)
            start = shot_start + max(0.0, wanted)
            if last_end is not None:
                start = max(start, last_end + rules.gap_s)
            start = _ms(start)
            end = _ms(start + line.duration_s)
            placements.append(Placement(line.shot, line.index, line.speaker, line.text, start, end))
            last_end = end
        duration = float(planned)
        if shot_lines:
            needed = _ms(last_end + rules.tail_s - shot_start)
            if needed > duration + 1e-9:
                is_last = k == len(shot_durations_s) - 1
                lengthen = rules.lengthen_shots or is_last
                if lengthen:
                    needed = _whole_frames(needed, rules.fps)
                problems.append(LineTooLong(k, tuple(x.index for x in shot_lines), needed, duration,
                                            "lengthened" if lengthen else "runs into next shot"))
                if lengthen:
                    duration = needed
        durations.append(duration)
        shot_start += duration
    return TimingPlan(tuple(placements), tuple(float(d) for d in shot_durations_s), tuple(durations),
                      tuple(problems))


def worst_offset_ms(planned_s: Sequence[float], measured_s: Sequence[float]) -> float:
    """The largest distance between where lines were planned and where their speech was found."""
    if len(planned_s) != len(measured_s):
        raise ValueError(f"{len(planned_s)} lines planned but {len(measured_s)} speech onsets found")
    return max((abs(p - m) * _MS for p, m in zip(planned_s, measured_s)), default=0.0)
