"""Two-pass EBU R128 loudness normalisation with ffmpeg's `loudnorm` (DESIGN §5).

Pass 1 measures (input_i, input_tp, input_lra, input_thresh: a JSON block at the end of stderr).
Pass 2 is a filter for the final encode: it takes all four as `measured_*` with `linear=true`, and
still falls back to dynamic mode on its own when the measured range exceeds the target range or
a linear gain would clip; the `normalization_type` of pass 2's JSON says which one ran, and that is
what is reported. Inputs under 3 s get a plain gain instead (loudnorm's dynamic mode needs a 3 s
window), limited so the true peak stays under the ceiling. Output is resampled to 48 kHz: loudnorm
works at 192 kHz internally and would otherwise hand that rate on. Sound that already meets the
target (within 0.5 LU, peak under the ceiling) is kept as it is when it can be stream-copied; an
output that missed the target by more than that is made again with a compressor ahead of loudnorm.
Episode assembly measures pass 1 with `ebur128` (studio/media/ebur128.py), the same R128 figures.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from studio.media.ffmpeg import run_ffmpeg

TARGET_I = -16.0
TARGET_TP = -1.5
TARGET_LRA = 11.0
SAMPLE_RATE = 48000
SHORT_INPUT_S = 3.0
AT_TARGET_LU = 0.5  # within this of the target, the sound is left alone
_JSON_BLOCK = re.compile(r"\{[^{}]*\"input_i\"[^{}]*\}", re.S)


class LoudnessError(RuntimeError):
    pass


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS; -inf for silence
    true_peak: float  # dBTP
    lra: float
    threshold: float


def parse_loudnorm_json(stderr: str) -> dict[str, str]:
    blocks = _JSON_BLOCK.findall(stderr)
    if not blocks:
        raise LoudnessError("loudnorm printed no measurement (does the input have an audio stream?)")
    return json.loads(blocks[-1])


def measure(path: Path) -> Loudness:
    """Pass 1 over the first audio stream of `path`."""
    stderr = run_ffmpeg(["-i", str(path), "-vn", "-map", "0:a:0",
                         "-af", f"loudnorm=I={TARGET_I}:TP={TARGET_TP}:LRA={TARGET_LRA}:print_format=json",
                         "-f", "null", "-"])
    data = parse_loudnorm_json(stderr)
    return Loudness(float(data["input_i"]), float(data["input_tp"]), float(data["input_lra"]),
                    float(data["input_thresh"]))


@dataclass(frozen=True)
class LoudnessPlan:
    audio_filter: str
    method: str  # "loudnorm" (read normalization_type from pass 2) | "gain" | "none" | "already_at_target"
    gain_db: float = 0.0
    copy_audio: bool = False  # the sound is kept as it is (stream copy)


def plan_normalisation(measured: Loudness, duration_s: float, *, can_copy: bool = False) -> LoudnessPlan:
    """`can_copy`: the sound could be kept as it is; it is when it already meets the target (scenes
    delivered at -16 LUFS join into an episode at -16 LUFS), which spares a decode and an AAC encode."""
    resample = f"aresample={SAMPLE_RATE}"
    if can_copy and math.isfinite(measured.integrated) and abs(measured.integrated - TARGET_I) <= AT_TARGET_LU \
            and measured.true_peak <= TARGET_TP:
        return LoudnessPlan("", "already_at_target", copy_audio=True)
    if not math.isfinite(measured.integrated):
        return LoudnessPlan(resample, "none")  # silence stays silence: no gain makes it -16 LUFS
    if duration_s < SHORT_INPUT_S:
        gain = min(TARGET_I - measured.integrated, TARGET_TP - measured.true_peak)
        return LoudnessPlan(f"volume={gain:.2f}dB,{resample}", "gain", round(gain, 2))
    return LoudnessPlan(
        f"loudnorm=I={TARGET_I}:TP={TARGET_TP}:LRA={TARGET_LRA}:measured_I={measured.integrated}"
        f":measured_TP={measured.true_peak}:measured_LRA={measured.lra}:measured_thresh={measured.threshold}"
        f":linear=true:print_format=json,{resample}",
        "loudnorm")


# When loudnorm's dynamic fallback is held back by the true-peak ceiling (speech peaks near full
# scale) it lands a LU or two under the target. A gentle compressor ahead of a single-pass loudnorm
# (its ceiling half a dB lower: AAC adds inter-sample overs) reaches the target with the peak held.
COMPRESSED_FILTER = (f"acompressor=threshold=0.1:ratio=4:attack=5:release=120,"
                     f"loudnorm=I={TARGET_I}:TP={TARGET_TP - 0.5}:LRA={TARGET_LRA},aresample={SAMPLE_RATE}")


def needs_correction(plan: LoudnessPlan, output: Loudness) -> bool:
    """The normalised output missed the target by more than the tolerance."""
    return plan.method == "loudnorm" and math.isfinite(output.integrated) and \
        abs(output.integrated - TARGET_I) > AT_TARGET_LU


def correction_filter(plan: LoudnessPlan, output: Loudness) -> tuple[str, str]:
    """(filter, name) for a second try: the missing gain on top when the peak has room for it, else the
    compressor ahead of loudnorm."""
    residual = TARGET_I - output.integrated
    if output.true_peak + residual <= TARGET_TP:
        return f"{plan.audio_filter},volume={residual:.2f}dB", "gain"
    return COMPRESSED_FILTER, "compressed"


def closer(a: Loudness, b: Loudness) -> bool:
    """Whether `b` is the better result: under the ceiling first, then nearer the target."""
    def key(x: Loudness) -> tuple[bool, float]:
        return x.true_peak > TARGET_TP + 0.1, abs(x.integrated - TARGET_I)
    return key(b) < key(a)


def applied_normalisation(plan: LoudnessPlan, pass2_stderr: str) -> str:
    """What pass 2 did: `linear`, `dynamic` (loudnorm's own fallback), `gain`, `none` or `already_at_target`."""
    if plan.method != "loudnorm":
        return plan.method
    return parse_loudnorm_json(pass2_stderr).get("normalization_type", "unknown")
