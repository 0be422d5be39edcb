"""The ffmpeg runner and the header parser, on files real ffmpeg makes."""

from __future__ import annotations

import pytest

from studio.media.ffmpeg import FfmpegError, media_info, run_ffmpeg


def _make_clip(path, size="320x240", rate=30, seconds=1.5, audio=True):
    sources = ["-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}"]
    if audio:
        sources += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    run_ffmpeg(["-v", "error", "-y", *sources, "-t", seconds, "-c:v", "libx264", "-pix_fmt", "yuv420p",
                *(["-c:a", "aac"] if audio else []), path])
    return path


def test_media_info_reads_duration_and_streams(tmp_path):
    info = media_info(_make_clip(tmp_path / "a.mp4"))
    assert info.duration_s == pytest.approx(1.5, abs=0.05)
    assert (info.video.codec, info.video.width, info.video.height, info.video.fps) == ("h264", 320, 240, 30.0)
    assert info.audio.sample_rate == 48000


def test_clips_of_another_size_do_not_share_parameters(tmp_path):
    a = media_info(_make_clip(tmp_path / "a.mp4", audio=False))
    b = media_info(_make_clip(tmp_path / "b.mp4", size="640x480", audio=False))
    assert a.same_video_parameters(media_info(tmp_path / "a.mp4"))
    assert not a.same_video_parameters(b)


def test_a_file_that_is_not_media_is_a_clear_error(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video")
    with pytest.raises(ValueError, match="junk.mp4"):
        media_info(junk)


def test_a_failing_command_reports_ffmpegs_last_lines(tmp_path):
    with pytest.raises(FfmpegError, match="No such file"):
        run_ffmpeg(["-i", tmp_path / "missing.mp4", tmp_path / "out.mp4"])
