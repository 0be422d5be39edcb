"""Loudness carried in a file's tags, and the estimate for scenes joined one after another."""

import math

import pytest

from studio.media.loudness_tags import joined_loudness, loudness_tags, tagged_loudness
from studio.media.loudnorm import Loudness
from studio.media.mp4_boxes import video_config

HEADER = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'scene.mp4':
  Metadata:
    major_brand     : isom
    studio_true_peak_dbtp: -2.31
    studio_integrated_lufs: -16.12
  Duration: 00:00:02.00, start: 0.000000, bitrate: 243 kb/s
  Stream #0:0[0x1](und): Video: h264, yuv420p, 160x90, 24 fps, 12288 tbn (default)
"""


def loud(integrated, peak=-3.0):
    return Loudness(integrated, peak, 2.0, integrated - 10)


def test_tags_read_back_from_the_header():
    found = tagged_loudness(HEADER)
    assert (found.integrated, found.true_peak) == (-16.12, -2.31)
    written = loudness_tags(loud(-16.123, -2.309))
    assert written == {"studio_integrated_lufs": "-16.12", "studio_true_peak_dbtp": "-2.31"}


def test_a_file_without_both_tags_has_no_known_loudness():
    assert tagged_loudness(HEADER.replace("    studio_true_peak_dbtp: -2.31\n", "")) is None
    # a stream's metadata (deeper indent) is not the file's
    assert tagged_loudness(HEADER.replace("    studio_", "      studio_")) is None
    assert math.isinf(tagged_loudness(HEADER.replace("-16.12", "-inf")).integrated)


def test_joined_loudness_is_a_duration_weighted_power_mean_with_the_highest_peak():
    same = joined_loudness([(loud(-16.0, -4.0), 10.0), (loud(-16.0, -2.0), 30.0)])
    assert same.integrated == pytest.approx(-16.0) and same.true_peak == -2.0
    # 10 s at -13 and 30 s at -19 LUFS: their mean power, not their mean level (-17.5)
    mixed = joined_loudness([(loud(-13.0), 10.0), (loud(-19.0), 30.0)])
    assert mixed.integrated == pytest.approx(10 * math.log10((10 * 10 ** -1.3 + 30 * 10 ** -1.9) / 40), abs=0.01)
    assert mixed.integrated == pytest.approx(-16.58, abs=0.01)


def test_a_silent_scene_does_not_pull_the_estimate_down():
    joined = joined_loudness([(loud(-16.0), 5.0), (Loudness(-math.inf, -math.inf, 0.0, -math.inf), 5.0)])
    assert joined.integrated == pytest.approx(-16.0)
    assert math.isinf(joined_loudness([(Loudness(-math.inf, -math.inf, 0.0, -math.inf), 5.0)]).integrated)


def test_a_file_that_is_not_an_mp4_has_no_video_config(tmp_path):
    (tmp_path / "x.mp4").write_bytes(b"not a movie at all")
    assert video_config(tmp_path / "x.mp4") == "" and video_config(tmp_path / "missing.mp4") == ""
