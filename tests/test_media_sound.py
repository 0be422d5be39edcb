"""Reusable sound measurements: silences, loudness by ebur128, per-stream durations."""

import pytest

from studio.media.ebur128 import measure_ebur128
from studio.media.ffmpeg import run_ffmpeg
from studio.media.loudnorm import measure
from studio.media.silence import (
    Silence,
    detect_silence,
    parse_silencedetect,
    sound_onsets,
)
from studio.media.streams import stream_duration

STDERR = """[silencedetect @ 0x1] silence_start: 0
[silencedetect @ 0x1] silence_end: 0.5 | silence_duration: 0.5
size=N/A time=00:00:01.00
[silencedetect @ 0x1] silence_start: 1.5
"""


def test_a_trailing_silence_has_a_start_and_no_end():
    assert parse_silencedetect(STDERR) == [Silence(0.0, 0.5), Silence(1.5, None)]
    ended = STDERR + "[silencedetect @ 0x1] silence_end: 3 | silence_duration: 1.5\n"
    assert parse_silencedetect(ended, audio_end_s=3.0)[-1] == Silence(1.5, None)
    assert parse_silencedetect(ended, audio_end_s=4.0)[-1] == Silence(1.5, 3.0)
    assert sound_onsets(parse_silencedetect(STDERR)) == [0.5]
    assert sound_onsets([Silence(0.4, 0.9)]) == [0.0, 0.9]


def tone_then_silence(path):
    # 1 s tone, 1 s silence, 0.5 s tone, 1 s silence to the end
    run_ffmpeg(["-f", "lavfi", "-i", "sine=f=440:r=48000:d=3.5", "-af",
                "volume=enable='between(t,1,2)+gte(t,2.5)':volume=0", "-y", path])
    return path


def test_silences_of_a_real_file(tmp_path):
    path = tone_then_silence(tmp_path / "a.wav")
    found = detect_silence(path, noise_db=-50, min_duration_s=0.3)
    # the volume filter switches per audio frame (1024 samples, 21 ms)
    assert [s.start_s for s in found] == pytest.approx([1.0, 2.5], abs=0.025)
    assert found[0].end_s == pytest.approx(2.0, abs=0.025) and found[1].end_s is None
    assert stream_duration(path, "a") == pytest.approx(3.5, abs=0.001) and stream_duration(path, "v") is None


def test_ebur128_agrees_with_loudnorm_and_silence_is_minus_infinity(tmp_path):
    path = tone_then_silence(tmp_path / "a.wav")
    fast, slow = measure_ebur128(path), measure(path)
    assert fast.integrated == pytest.approx(slow.integrated, abs=0.5)
    assert fast.true_peak == pytest.approx(slow.true_peak, abs=0.5)
    run_ffmpeg(["-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "4", "-y", tmp_path / "s.wav"])
    assert measure_ebur128(tmp_path / "s.wav").integrated == float("-inf")
