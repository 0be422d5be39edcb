"""Loudness by ffmpeg's `ebur128` scanner: integrated LUFS, range and true peak in one read.

For measuring only it is about three times cheaper than loudnorm's first pass (no 192 kHz resampling
of the whole signal for its own processing); the figures are the same EBU R128 ones. The summary is
printed at the end of stderr; silence gives an integrated value of -70 LUFS, reported as -inf to
match loudnorm's measurement.
"""

from __future__ import annotations

import re
from pathlib import Path

from studio.media.ffmpeg import run_ffmpeg
from studio.media.loudnorm import Loudness, LoudnessError

_SUMMARY = re.compile(
    r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf) LUFS\s*Threshold:\s*(-?[\d.]+|-inf) LUFS\s*"
    r"Loudness range:\s*LRA:\s*(-?[\d.]+) LU.*?True peak:\s*Peak:\s*(-?[\d.]+|-inf) dBFS", re.DOTALL)
# ebur128's floor: an integrated value here means nothing passed the gate.
SILENT_LUFS = -70.0


def parse_ebur128(stderr: str) -> Loudness:
    match = _SUMMARY.search(stderr[stderr.rfind("Summary:"):] if "Summary:" in stderr else "")
    if match is None:
        raise LoudnessError("ebur128 printed no summary (does the input have an audio stream?)")
    integrated, threshold, lra, peak = (float(v) for v in match.groups())
    if integrated <= SILENT_LUFS:
        integrated = float("-inf")
    return Loudness(integrated, peak, lra, threshold)


def measure_ebur128(path: Path) -> Loudness:
    """Loudness of the first audio stream of `path`."""
    stderr = run_ffmpeg(["-i", str(path), "-vn", "-map", "0:a:0", "-af", "ebur128=peak=true:framelog=quiet",
                         "-f", "null", "-"])
    return parse_ebur128(stderr)
