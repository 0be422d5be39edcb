"""An MP4's header read from its boxes agrees with what ffmpeg reads from it."""

from dataclasses import replace

from studio.media.mp4_boxes import movie_duration, video_config
from studio.media.mp4_header import mp4_header
from studio.media.probe import QUICK_PROBE
from studio.media.ffmpeg import parse_media_info, run_ffmpeg
from tests.episode_media import make_delivered_clip, make_scene_clip


def ffmpeg_header(path):
    return parse_media_info(run_ffmpeg([*QUICK_PROBE, "-i", str(path)], check=False))


def test_the_boxes_say_what_ffmpeg_says(tmp_path):
    clips = [make_delivered_clip(tmp_path / "delivered.mp4", duration_s=1.5),
             make_scene_clip(tmp_path / "stereo.mp4", duration_s=1.25, sample_rate=44100),
             make_scene_clip(tmp_path / "wide.mp4", duration_s=2.0, size="320x90", fps=30, preset="medium")]
    for clip in clips:
        header, by_ffmpeg = mp4_header(clip), ffmpeg_header(clip)
        # The pixel format is not in the boxes (ffmpeg finds it in a High profile's SPS, not in Baseline's).
        assert header.info.video.pix_fmt == "none"
        assert header.info == replace(by_ffmpeg, video=replace(by_ffmpeg.video, pix_fmt="none")), clip.name
        assert header.video_config == video_config(clip) != ""
        assert movie_duration(clip) == header.info.duration_s
    tags = mp4_header(clips[0]).tags
    assert float(tags["studio_integrated_lufs"]) == ffmpeg_tag(clips[0], "studio_integrated_lufs")


def ffmpeg_tag(path, key):
    line = next(x for x in run_ffmpeg(["-i", str(path)], check=False).splitlines() if x.strip().startswith(key))
    return float(line.split(":", 1)[1])


def test_what_it_does_not_know_is_left_to_ffmpeg(tmp_path):
    silent = make_scene_clip(tmp_path / "silent.mp4", audio=False)
    (tmp_path / "text.mp4").write_bytes(b"not a movie")
    assert mp4_header(silent) is None and mp4_header(tmp_path / "text.mp4") is None
    assert mp4_header(tmp_path / "missing.mp4") is None
