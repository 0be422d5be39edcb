"""A scene's mixed sound encoded for delivery at the episode's loudness target (-16 LUFS, -1.5 dBTP).

Every scene is brought to the target when it is built, so an episode of scenes joined by cuts keeps
their sound as it is: a stream copy, no decode and no AAC encode (studio/media/assemble.py). One
constant gain does it, so the mix keeps its balance (the music's level against speech, the ducking
depth); a look-ahead limiter, its delay compensated so speech stays on its frame, holds the few
peaks the gain pushes over the ceiling. When no peak reaches the limiter the gain is exact; when
one does and the result lands more than AIM_LU short (the limiter took some loudness), more gain is
tried, at most twice, by measuring the filtered mix without encoding it. The closest is encoded
once, and the sound is measured again as encoded: what the file holds and its tags say. Silence
stays silence.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from studio.media.ebur128 import measure_ebur128, parse_ebur128
from studio.media.ffmpeg import run_ffmpeg
from studio.media.loudness_tags import loudness_tags, tags_as_args
from studio.media.loudnorm import AT_TARGET_LU, LoudnessError, SAMPLE_RATE, TARGET_I, TARGET_TP, Loudness, closer

# Sample peaks are held this far under the true-peak ceiling, for the AAC encode and the peaks
# between samples (a tenth of a decibel on speech here; a scene over the ceiling is re-normalised
# by the episode instead of copied, so a miss costs time, not loudness).
LIMIT_DBFS = TARGET_TP - 0.5
MAX_GAIN_DB = 30.0
TRIALS = 3  # gains tried at most: one, and two more to correct for what the limiter took
# Aimed closer than the episode's tolerance (AT_TARGET_LU) leaves room for the scenes' joined
# loudness estimate and for meters that differ by a tenth.
AIM_LU = AT_TARGET_LU / 2
_INTEGRATED = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+) LUFS")
BITRATE = "160k"


@dataclass(frozen=True)
class DeliveredSound:
    path: Path  # AAC in an .m4a, to be stream-copied into the scene's MP4
    loudness: Loudness  # measured from `path`
    gain_db: float  # the constant gain applied to the mix (0 for silence)
    normalization: str  # "gain" | "gain and limiter (N tried)" | "none" (silence: nothing to bring up)
    analysis: str  # stderr of the measuring read, with whatever `analysis_filter` printed


def _filter(gain_db: float) -> str:
    limit = 10 ** (LIMIT_DBFS / 20)
    return (f"volume={gain_db:.2f}dB,alimiter=limit={limit:.4f}:attack=5:release=50:level=0:latency=1,"
            f"aresample={SAMPLE_RATE}")


def _encode(mix: Path, audio_filter: str, out: Path, analysis_filter: str) -> tuple[Loudness, str]:
    run_ffmpeg(["-i", mix, "-af", audio_filter, "-c:a", "aac", "-b:a", BITRATE, "-ar", SAMPLE_RATE, "-y", out])
    chain = ",".join(f for f in (analysis_filter, "ebur128=peak=true:framelog=quiet") if f)
    stderr = run_ffmpeg(["-i", out, "-vn", "-map", "0:a:0", "-af", chain, "-f", "null", "-"])
    return parse_ebur128(stderr), stderr


def _trial(mix: Path, gain_db: float) -> Loudness:
    """The integrated loudness a gain gives, measured without encoding (the AAC encode is the costly
    part) and without the true peak (the limiter holds it)."""
    stderr = run_ffmpeg(["-i", mix, "-af", f"{_filter(gain_db)},ebur128=framelog=quiet", "-f", "null", "-"])
    found = _INTEGRATED.search(stderr[stderr.rfind("Summary:"):])
    if found is None:
        raise LoudnessError("ebur128 printed no summary")
    return Loudness(float(found[1]), LIMIT_DBFS, 0.0, float(found[1]) - 10)


def _next_gain(tried: list[tuple[float, Loudness]]) -> float:
    """The gain that should land on the target: the missing loudness on top of the last gain, scaled by
    how much loudness the last step of gain bought (under limiting, less than a decibel per decibel)."""
    (gain, loud) = tried[-1]
    missing = TARGET_I - loud.integrated
    if len(tried) > 1:
        previous_gain, previous = tried[-2]
        bought = (loud.integrated - previous.integrated) / (gain - previous_gain) if gain != previous_gain else 1.0
        missing /= min(1.0, max(0.25, bought))
    return max(-MAX_GAIN_DB, min(MAX_GAIN_DB, gain + missing))


def _gain(mix: Path, measured: Loudness) -> tuple[float, int]:
    """(the gain closest to the target, how many were tried)."""
    gain = max(-MAX_GAIN_DB, min(MAX_GAIN_DB, TARGET_I - measured.integrated))
    if measured.true_peak + gain <= LIMIT_DBFS:
        return gain, 0  # the limiter never acts: the loudness is the measured one plus the gain, exactly
    tried = [(gain, _trial(mix, gain))]
    while len(tried) < TRIALS and abs(tried[-1][1].integrated - TARGET_I) > AIM_LU:
        gain = _next_gain(tried)
        if gain == tried[-1][0]:
            break
        tried.append((gain, _trial(mix, gain)))
    best = tried[0]
    for attempt in tried[1:]:
        if closer(best[1], attempt[1]):
            best = attempt
    return best[0], len(tried)


def deliver_sound(mix: Path, out: Path, *, analysis_filter: str = "") -> DeliveredSound:
    """Encode `mix` (the scene's mixed WAV) to `out` at the target loudness. `analysis_filter` (for
    instance silencedetect) runs in the same read as the measurement of the encoded sound."""
    measured = measure_ebur128(mix)
    if not math.isfinite(measured.integrated):
        loudness, stderr = _encode(mix, f"aresample={SAMPLE_RATE}", out, analysis_filter)
        return DeliveredSound(out, loudness, 0.0, "none", stderr)
    gain, tries = _gain(mix, measured)
    loudness, stderr = _encode(mix, _filter(gain), out, analysis_filter)
    return DeliveredSound(out, loudness, round(gain, 2), "gain" if not tries else f"gain and limiter ({tries} tried)",
                          stderr)


def mux_scene_video(video: Path, sound: DeliveredSound, srt: Path | None, out: Path) -> None:
    """The scene's MP4: picture and delivered sound copied as they are, the subtitles as a soft stream,
    and the sound's measured loudness in the tags (episode assembly reads them)."""
    inputs = ["-i", video, "-i", sound.path] + (["-i", srt] if srt else [])
    maps = ["-map", "0:v:0", "-map", "1:a:0"] + (["-map", "2:s:0", "-c:s", "mov_text",
                                                 "-metadata:s:s:0", "language=eng"] if srt else [])
    run_ffmpeg([*inputs, *maps, "-c:v", "copy", "-c:a", "copy", *tags_as_args(loudness_tags(sound.loudness)),
                "-movflags", "+faststart+use_metadata_tags", "-y", out])
