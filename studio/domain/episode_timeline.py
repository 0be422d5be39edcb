"""An episode's timeline: scene clips in order, joined by cuts or transitions of T seconds.

A transition overlaps the end of one clip with the start of the next, so the k-th xfade starts at
offset_k = (d_0 + ... + d_{k-1}) - (T_1 + ... + T_k), which is DESIGN §5's (sum d) - k*T when every
transition lasts T. A cut is a transition of 0 s. The episode lasts sum(d) - sum(T).

The assemble plan decides what can be stream-copied: the concat demuxer joins clips without
re-encoding only when codec, size, fps, pixel format, time base and audio format are identical
(a clip of another size concatenates with exit 0 into a corrupt file). Clips joined by cuts form a
group; a clip whose parameters differ from the group's target is normalised (re-encoded) first;
groups are joined by xfade + acrossfade, which re-encodes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Hashable, Sequence

TRANSITIONS = {"fade": "fade", "dissolve": "dissolve", "wipe": "wipeleft"}  # our name -> xfade's


class TimelineError(ValueError):
    pass


@dataclass(frozen=True)
class TimelineClip:
    scene: str
    title: str
    duration_s: float
    transition: str = "cut"  # how this clip is joined to the one before it (ignored on the first)
    transition_s: float = 0.0


def _transition_s(clip: TimelineClip, position: int) -> float:
    if position == 0 or clip.transition == "cut":
        return 0.0
    if clip.transition not in TRANSITIONS:
        raise TimelineError(f"scenes[{position}].transition: unknown transition {clip.transition!r}")
    return clip.transition_s


def validate(clips: Sequence[TimelineClip]) -> None:
    if not clips:
        raise TimelineError("scenes: an episode needs at least one scene video")
    for k, clip in enumerate(clips):
        if clip.duration_s <= 0:
            raise TimelineError(f"scenes[{k}] ({clip.scene}): duration must be positive")
        t = _transition_s(clip, k)
        if t < 0:
            raise TimelineError(f"scenes[{k}] ({clip.scene}).transition_s: must not be negative")
        if k and clip.transition != "cut" and t <= 0:
            raise TimelineError(f"scenes[{k}] ({clip.scene}).transition_s: a {clip.transition} needs a duration")
        if k and t >= min(clip.duration_s, clips[k - 1].duration_s):
            raise TimelineError(f"scenes[{k}] ({clip.scene}).transition_s: {t} s is not shorter than "
                                f"the clips it joins")


def start_offsets(clips: Sequence[TimelineClip]) -> list[float]:
    """Where each clip starts in the episode (for k >= 1, the xfade offset of join k)."""
    validate(clips)
    offsets, elapsed, overlap = [], 0.0, 0.0
    for k, clip in enumerate(clips):
        overlap += _transition_s(clip, k)
        offsets.append(round(elapsed - overlap, 6))
        elapsed += clip.duration_s
    return offsets


def total_duration(clips: Sequence[TimelineClip]) -> float:
    validate(clips)
    return round(sum(c.duration_s for c in clips) - sum(_transition_s(c, k) for k, c in enumerate(clips)), 6)


@dataclass(frozen=True)
class Chapter:
    title: str
    start_s: float
    end_s: float


def chapters(clips: Sequence[TimelineClip]) -> list[Chapter]:
    """One chapter per scene, from where it first shows (the start of its transition in)."""
    starts = start_offsets(clips)
    ends = starts[1:] + [total_duration(clips)]
    return [Chapter(c.title or c.scene, s, e) for c, s, e in zip(clips, starts, ends)]


@dataclass(frozen=True)
class ClipGroup:
    """Consecutive clips joined by cuts: one concat-demuxer input once `normalise` ones are re-encoded."""

    indexes: tuple[int, ...]
    normalise: tuple[int, ...]  # clip indexes whose parameters differ from the group's target
    transition_in: str  # how the group joins the previous one ("cut" for the first)
    transition_s: float

    @property
    def stream_copy(self) -> bool:
        return not self.normalise


@dataclass(frozen=True)
class AssemblePlan:
    groups: tuple[ClipGroup, ...]
    target: Hashable  # the parameters every clip is brought to

    @property
    def copy_only(self) -> bool:
        """No frame is re-encoded: one group of identical clips."""
        return len(self.groups) == 1 and self.groups[0].stream_copy

    def copied_joins(self) -> list[int]:
        """Join k (between clip k-1 and k) is a stream copy when both sides go in unchanged."""
        joins = []
        for group in self.groups:
            for a, b in zip(group.indexes, group.indexes[1:]):
                if a not in group.normalise and b not in group.normalise:
                    joins.append(b)
        return joins


def assemble_plan(clips: Sequence[TimelineClip], parameters: Sequence[Hashable | None]) -> AssemblePlan:
    """`parameters[k]`: clip k's comparable stream parameters (None: unreadable or no video)."""
    validate(clips)
    if len(parameters) != len(clips):
        raise TimelineError("one set of parameters per clip")
    known = [p for p in parameters if p is not None]
    # The most common parameters are the target: the fewest clips are re-encoded. Ties: the first clip's.
    counts = Counter(known)
    target = max(known, key=lambda p: (counts[p], -known.index(p))) if known else None
    groups: list[ClipGroup] = []
    current: list[int] = []
    transition_in, transition_s = "cut", 0.0
    for k, clip in enumerate(clips):
        t = _transition_s(clip, k)
        if k and t > 0:
            groups.append(ClipGroup(tuple(current), tuple(i for i in current if parameters[i] != target),
                                    transition_in, transition_s))
            current, transition_in, transition_s = [], clip.transition, t
        current.append(k)
    groups.append(ClipGroup(tuple(current), tuple(i for i in current if parameters[i] != target),
                            transition_in, transition_s))
    return AssemblePlan(tuple(groups), target)


def group_offsets(plan: AssemblePlan, durations: Sequence[float]) -> list[float]:
    """xfade offsets between groups, from the groups' measured durations."""
    offsets, elapsed, overlap = [], 0.0, 0.0
    for group, duration in zip(plan.groups, durations):
        overlap += group.transition_s
        offsets.append(round(elapsed - overlap, 6))
        elapsed += duration
    return offsets
