"""Subtitle cues of a scene's dialogue, from its placements: the real timings, speaker names optional.

Writing SRT/WebVTT and reading SRT back are studio/domain/subtitles.py's; this only turns placed
lines into cues.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from studio.domain.dialogue_timing import Placement
from studio.domain.subtitles import Cue


def dialogue_cues(placements: Sequence[Placement], names: Mapping[str, str] | None = None) -> list[Cue]:
    """One cue per line in time order; with `names` (speaker slug -> name) a cue starts with its speaker."""
    cues = []
    for p in sorted(placements, key=lambda x: x.start_s):
        # A blank line ends a cue, so a line's own blank lines are folded away.
        text = "\n".join(part.strip() for part in p.text.splitlines() if part.strip())
        if names is not None:
            text = f"{names.get(p.speaker, p.speaker)}: {text}"
        cues.append(Cue(p.start_s, p.end_s, text))
    return cues
