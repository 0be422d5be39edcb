"""Loudness a file carries in its own tags, and the loudness of such files joined one after another.

A scene video is measured when it is built (its sound is normalised then, studio/scene_videos/
sound_delivery.py) and the figures are written into the MP4 as tags. Episode assembly reads them from
the header it reads anyway, so scenes already at the target are joined without decoding their sound
once more. A file whose sound is changed afterwards by anything but the studio keeps stale tags only
if that tool copies tags; the studio rewrites them with every build.

Joined parts: integrated loudness is a mean of power over the gated 400 ms blocks, so the parts
combine as a duration-weighted power mean. The relative gate of the whole can admit or drop a few
quiet blocks that each part's own gate did not, which is why the result is an estimate and the
assembly keeps it only with a margin inside its tolerance. The true peak of the whole is the
largest of the parts'.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from studio.media.loudnorm import Loudness

INTEGRATED_TAG = "studio_integrated_lufs"
TRUE_PEAK_TAG = "studio_true_peak_dbtp"
_NUMBER = r"(-?\d+(?:\.\d+)?|-inf)"
_TAG_LINE = re.compile(rf"^    ({INTEGRATED_TAG}|{TRUE_PEAK_TAG})\s*:\s*{_NUMBER}\s*$", re.MULTILINE)


def loudness_tags(loudness: Loudness) -> dict[str, str]:
    """MP4 tags (written with `-movflags +use_metadata_tags`) recording a file's measured loudness."""
    return {INTEGRATED_TAG: f"{loudness.integrated:.2f}", TRUE_PEAK_TAG: f"{loudness.true_peak:.2f}"}


def tagged_loudness(header: str) -> Loudness | None:
    """The loudness tags of one input's `ffmpeg -i` header (its global metadata), or None."""
    found: dict[str, str] = {}
    for key, value in _TAG_LINE.findall(header):
        found.setdefault(key, value)
    return loudness_from_tags(found)


def loudness_from_tags(tags: Mapping[str, str]) -> Loudness | None:
    """The loudness a file's tags record, or None when it lacks either tag or they are no numbers."""
    try:
        integrated, peak = float(tags[INTEGRATED_TAG]), float(tags[TRUE_PEAK_TAG])
    except (KeyError, ValueError):
        return None
    return Loudness(integrated, peak, 0.0, integrated - 10 if math.isfinite(integrated) else integrated)


def tags_as_args(tags: Mapping[str, str]) -> list[str]:
    return [arg for key, value in tags.items() for arg in ("-metadata", f"{key}={value}")]


def joined_loudness(parts: Sequence[tuple[Loudness, float]]) -> Loudness:
    """(loudness, seconds) of consecutive parts -> the estimated loudness of them joined."""
    audible = [(loud, seconds) for loud, seconds in parts if math.isfinite(loud.integrated) and seconds > 0]
    peak = max((loud.true_peak for loud, _ in parts), default=float("-inf"))
    if not audible:
        return Loudness(float("-inf"), peak, 0.0, float("-inf"))
    power = sum(seconds * 10 ** (loud.integrated / 10) for loud, seconds in audible)
    integrated = 10 * math.log10(power / sum(seconds for _, seconds in audible))
    return Loudness(round(integrated, 2), peak, max(loud.lra for loud, _ in audible), round(integrated - 10, 2))
