"""Joining scene videos with real ffmpeg: stream copy, normalising, transitions, loudness, chapters, tags."""

import pytest

from studio.media.assemble import SceneVideo, assemble_episode, thumbnail
from studio.media.ffmetadata import read_ffmetadata
from studio.media import ffmpeg as ffmpeg_module
from studio.media.ffmpeg import media_info, run_ffmpeg
from studio.media.loudness_tags import loudness_tags, tags_as_args
from studio.media.loudnorm import AT_TARGET_LU, TARGET_I, TARGET_TP, Loudness, measure
from tests.episode_media import make_delivered_clip, make_scene_clip


def annex_b(path):
    """The H.264 elementary stream of a file, copied out without decoding (parameter sets in-band)."""
    out = path.with_suffix(".h264")
    run_ffmpeg(["-v", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "h264", "-y", str(out)])
    return out.read_bytes()


def packets(path, stream):
    """(size, CRC) of every packet of the file's first `v`ideo or `a`udio stream, read without decoding."""
    listing = run_ffmpeg(["-v", "error", "-i", str(path), "-map", f"0:{stream}:0", "-c", "copy", "-f", "framecrc",
                          "-y", str(path.with_suffix(f".{stream}.crc"))])
    assert listing == ""
    lines = path.with_suffix(f".{stream}.crc").read_text().splitlines()
    return [tuple(f.strip() for f in line.split(",")[4:6]) for line in lines if line and not line.startswith("#")]


def frame_count(path):
    stderr = run_ffmpeg(["-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "null", "-"])
    return int(stderr.rsplit("frame=", 1)[1].split()[0])


def decode_errors(path):
    return run_ffmpeg(["-v", "error", "-i", str(path), "-f", "null", "-"]).strip()


def test_identical_clips_joined_by_cuts_are_stream_copied(tmp_path):
    clips = [make_scene_clip(tmp_path / f"s{i}.mp4", duration_s=d, frequency=300 + 100 * i, volume_db=-30)
             for i, d in enumerate([1.5, 1.0, 1.25])]
    scenes = [SceneVideo(f"s{i}", f"Scene {i}", p) for i, p in enumerate(clips)]
    done = assemble_episode(scenes, tmp_path / "episode.mp4", tags={"title": "Ep"})
    assert done.copy_only and done.copied_joins == [1, 2] and done.normalised_scenes == []
    # No re-encode: the episode's H.264 stream is the scenes' streams byte for byte, in order.
    assert annex_b(done.path) == b"".join(annex_b(clip) for clip in clips)
    assert frame_count(done.path) == 36 + 24 + 30
    assert done.duration_s == pytest.approx(3.75)
    assert abs(media_info(done.path).duration_s - 3.75) < 0.05
    assert done.scene_starts_s == [0.0, 1.5, 2.5]


def test_scenes_delivered_at_the_target_are_joined_by_one_copy_without_reading_their_sound(tmp_path, monkeypatch):
    clips = [make_delivered_clip(tmp_path / f"d{i}.mp4", duration_s=d, frequency=300 + 150 * i, volume_db=v)
             for i, (d, v) in enumerate([(2.0, -20.0), (1.5, -5.0), (2.5, -12.0)])]
    processes = []
    run = ffmpeg_module.subprocess.run
    monkeypatch.setattr(ffmpeg_module.subprocess, "run", lambda command, **kw: processes.append(command) or
                        run(command, **kw))
    done = assemble_episode([SceneVideo(f"d{i}", "", p) for i, p in enumerate(clips)], tmp_path / "e.mp4", tags={})
    monkeypatch.undo()
    assert len(processes) == 1 and "concat" in processes[0]  # the assembly is one ffmpeg: the copy
    assert done.copy_only and done.normalization_type == "already_at_target"
    assert done.loudness_source == "scene tags"  # the scenes' tags said so: their sound was not read again
    # Neither encoder ran: picture and sound are the scenes' packets, byte for byte, in order.
    assert packets(done.path, "v") == [p for clip in clips for p in packets(clip, "v")]
    assert packets(done.path, "a") == [p for clip in clips for p in packets(clip, "a")]
    out = measure(done.path)
    assert abs(out.integrated - TARGET_I) <= 1.0 and out.true_peak <= TARGET_TP
    assert abs(out.integrated - done.output_loudness.integrated) <= AT_TARGET_LU  # the tags' estimate holds


def test_tags_near_the_edge_of_the_tolerance_are_not_trusted_and_the_sound_is_measured(tmp_path):
    """Joined, the scenes' gated loudness can differ from their tags' estimate by a few tenths."""
    clips = []
    for i in range(2):
        made = make_scene_clip(tmp_path / f"raw{i}.mp4", duration_s=2.0, frequency=400 + 100 * i)
        clips.append(tmp_path / f"t{i}.mp4")
        run_ffmpeg(["-i", str(made), "-c", "copy", *tags_as_args(loudness_tags(Loudness(-16.4, -3.0, 0.0, -26.4))),
                    "-movflags", "+use_metadata_tags", "-y", str(clips[-1])])
    done = assemble_episode([SceneVideo(f"t{i}", "", p) for i, p in enumerate(clips)], tmp_path / "e.mp4", tags={})
    assert done.loudness_source == "measured" and done.input_loudness.integrated < -20  # the sound as it is


def test_clips_whose_parameter_sets_differ_are_not_copied_together(tmp_path):
    """Another x264 preset: ffmpeg reports the same stream, but the SPS/PPS a copy would keep differ."""
    a, b, c = (make_scene_clip(tmp_path / f"{n}.mp4", duration_s=1.0, preset=preset)
               for n, preset in (("a", "ultrafast"), ("b", "medium"), ("c", "ultrafast")))
    assert media_info(a).video == media_info(b).video
    done = assemble_episode([SceneVideo(n, n, p) for n, p in zip("abc", (a, b, c))], tmp_path / "e.mp4", tags={})
    assert done.normalised_scenes == ["b"] and not done.copy_only
    assert frame_count(done.path) == 72 and decode_errors(done.path) == ""


def test_mixed_clips_are_normalised_and_transitions_give_the_exact_duration(tmp_path):
    a = make_scene_clip(tmp_path / "a.mp4", duration_s=2.0)
    odd = make_scene_clip(tmp_path / "odd.mp4", duration_s=2.0, size="200x100", fps=30, audio=False)
    b = make_scene_clip(tmp_path / "b.mp4", duration_s=1.5, sample_rate=44100)
    c = make_scene_clip(tmp_path / "c.mp4", duration_s=2.0)
    scenes = [SceneVideo("a", "A", a), SceneVideo("odd", "Odd", odd), SceneVideo("b", "B", b, "fade", 0.5),
              SceneVideo("c", "C", c, "wipe", 0.25)]
    done = assemble_episode(scenes, tmp_path / "episode.mp4", tags={})
    assert not done.copy_only and sorted(done.normalised_scenes) == ["b", "odd"]
    # 2 + 2 + 1.5 + 2 - 0.5 - 0.25 = 6.75 s = 162 frames at 24 fps
    assert done.duration_s == pytest.approx(6.75)
    assert frame_count(done.path) == 162
    info = media_info(done.path)
    assert (info.video.width, info.video.height, info.video.fps) == (160, 90, 24.0)
    assert info.audio.sample_rate == 48000
    assert decode_errors(done.path) == ""
    assert [round(c.start_s, 2) for c in done.chapters] == [0.0, 2.0, 3.5, 4.75]


def test_loudness_reaches_the_target_and_the_applied_mode_is_reported(tmp_path):
    quiet = [make_scene_clip(tmp_path / f"q{i}.mp4", duration_s=2.0, volume_db=-35) for i in range(2)]
    done = assemble_episode([SceneVideo(f"q{i}", "", p) for i, p in enumerate(quiet)], tmp_path / "e.mp4", tags={})
    assert done.input_loudness.integrated < -40
    assert done.normalization_type in ("linear", "dynamic")
    out = measure(done.path)
    assert abs(out.integrated - TARGET_I) <= 1.0 and out.true_peak <= TARGET_TP
    short = assemble_episode([SceneVideo("q0", "", quiet[0])], tmp_path / "short.mp4", tags={})
    assert short.normalization_type == "gain"  # under 3 s: a plain gain
    assert abs(measure(short.path).integrated - TARGET_I) <= 1.0


def test_chapters_tags_and_thumbnail(tmp_path):
    clips = [make_scene_clip(tmp_path / f"s{i}.mp4", duration_s=1.0) for i in range(2)]
    tags = {"title": "The Lamp; Goes = Out", "studio_scenes": '["s0","s1"]', "studio_gpu_seconds": "12.5"}
    done = assemble_episode([SceneVideo("s0", "First", clips[0]), SceneVideo("s1", "Second", clips[1])],
                            tmp_path / "e.mp4", tags=tags)
    read_tags, chapters = read_ffmetadata(done.path)
    assert {k: read_tags[k] for k in tags} == tags
    assert [(round(s, 2), round(e, 2), t) for s, e, t in chapters] == [(0.0, 1.0, "First"), (1.0, 2.0, "Second")]
    thumb = thumbnail(done.path, tmp_path / "thumb.jpg", at_s=0.5)
    assert thumb.read_bytes()[:2] == b"\xff\xd8"
    with pytest.raises(RuntimeError, match="no frame"):
        thumbnail(done.path, tmp_path / "late.jpg", at_s=30.0)


def test_sound_already_at_the_target_is_kept_as_it_is(tmp_path):
    clips = [make_scene_clip(tmp_path / f"t{i}.mp4", duration_s=2.0, loudness_lufs=-16.0, frequency=500 + 50 * i)
             for i in range(2)]
    done = assemble_episode([SceneVideo(f"t{i}", "", p) for i, p in enumerate(clips)], tmp_path / "e.mp4", tags={})
    assert done.copy_only and done.normalization_type == "already_at_target"
    out = measure(done.path)
    assert abs(out.integrated - TARGET_I) <= 1.0 and out.true_peak <= TARGET_TP


def test_peaky_sound_that_loudnorm_leaves_short_is_corrected(tmp_path):
    """Loud bursts near full scale over a quiet bed: loudnorm's dynamic fallback alone lands short."""
    clip = tmp_path / "bursts.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc=size=160x90:rate=24:duration=6", "-f", "lavfi", "-i",
                "aevalsrc='0.95*sin(2*PI*440*t)*lt(mod(t,1),0.08)+0.02*sin(2*PI*220*t)':s=48000:d=6",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2",
                "-t", "6", "-y", str(clip)])
    done = assemble_episode([SceneVideo("b", "Bursts", clip)], tmp_path / "e.mp4", tags={})
    assert done.normalization_type.startswith(("linear", "dynamic"))
    out = measure(done.path)
    assert abs(out.integrated - TARGET_I) <= 1.0 and out.true_peak <= TARGET_TP
