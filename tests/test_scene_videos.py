"""Scene videos: dialogue where planned, subtitles, ducked music, non-fatal audio, re-mix without re-render."""

import numpy as np
import pytest

from studio.audio.line_cache import SAMPLE_RATE
from studio.audio.mix import MixSettings, read_pcm
from studio.audio.tts import LiveSynthesizer, PiperSynthesizer
from studio.clients.tts import TtsClient
from studio.domain.subtitles import parse_srt
from studio.media.ffmpeg import media_info, run_ffmpeg
from studio.media.loudness_tags import tagged_loudness
from studio.media.loudnorm import AT_TARGET_LU, TARGET_I, TARGET_TP, measure
from studio.media.silence import detect_silence, sound_onsets
from studio.scene_videos.build import (
    SceneNotReady,
    SceneSoundOptions,
    build_scene_video,
)
from tests.doubles.tts import TtsDouble
from tests.scene_sound_seed import FPS, make_music, seed_scene

FRAME_S = 1 / FPS
DIALOGUE = [
    (3.0, [{"character": "mika", "line": "No, no, no. Not tonight."}]),
    (4.0, [{"character": "ember", "line": "Um. I can explain the lamp."},
           {"character": "mika", "line": "You can talk?"}]),
    (2.5, []),
]


def decoded_audio(video, out):
    run_ffmpeg(["-i", video, "-map", "0:a:0", "-ac", "1", "-ar", SAMPLE_RATE, "-c:a", "pcm_s16le", "-y", out])
    return read_pcm(out)


def flat_top(n):
    # A flat-top window reads a tone's amplitude within 0.01 dB wherever it falls between FFT bins
    # (a Hann window can lose 1.4 dB), so the stretch needs no whole number of cycles.
    t = 2 * np.pi * np.arange(n) / (n - 1)
    return (0.21557895 - 0.41663158 * np.cos(t) + 0.277263158 * np.cos(2 * t)
            - 0.083578947 * np.cos(3 * t) + 0.006947368 * np.cos(4 * t))


def tone_db(x, start_s, end_s, hz):
    """Level of one steady tone in a stretch of audio (its FFT bins): speech barely reaches it."""
    seg = x[int(start_s * SAMPLE_RATE):int(end_s * SAMPLE_RATE)]
    window = flat_top(len(seg))
    spectrum = np.abs(np.fft.rfft(seg * window))
    k = round(hz * len(seg) / SAMPLE_RATE)
    return 20 * np.log10(spectrum[k - 3:k + 4].max() * 2 / window.sum())


async def test_dialogue_lands_where_planned_and_the_srt_matches(db, tmp_path):
    await seed_scene(db, tmp_path, DIALOGUE)
    report = await build_scene_video(db, "harbor", tmp_path, PiperSynthesizer())
    assert report.audio_state == "complete" and report.audio_problems == []
    assert report.join["method"] == "stream copy"
    assert [(l["shot"], l["line"]) for l in report.lines] == [(1, 1), (2, 1), (2, 2)]
    assert report.lines[0]["start_s"] == 0.25 and report.lines[1]["start_s"] == 3.25

    onsets = sound_onsets(detect_silence(report.path, noise_db=-40, min_duration_s=0.15))
    for line in report.lines:
        nearest = min(onsets, key=lambda t: abs(t - line["start_s"]))
        assert abs(nearest - line["start_s"]) <= FRAME_S, (line, onsets)

    info = media_info(report.path)
    assert info.video and info.audio and info.subtitle_streams == 1
    assert report.duration_s == pytest.approx(9.5, abs=FRAME_S)
    assert report.av_difference_s <= FRAME_S
    # Delivered at the episode's target, measured from the file, and the file says so in its tags.
    measured = measure(report.path)
    assert abs(measured.integrated - TARGET_I) <= AT_TARGET_LU and measured.true_peak <= TARGET_TP
    assert report.loudness["integrated_lufs"] == pytest.approx(measured.integrated, abs=0.3)
    assert tagged_loudness(run_ffmpeg(["-i", report.path], check=False)).integrated == \
        pytest.approx(report.loudness["integrated_lufs"], abs=0.01)
    assert report.silences and report.silences[-1]["end_s"] is None  # the silent last shot runs to the end

    sidecar = parse_srt(report.srt_path.read_text())
    assert [t for c in sidecar for t in (c.start_s, c.end_s)] == \
        pytest.approx([t for l in report.lines for t in (l["start_s"], l["end_s"])], abs=1e-6)
    assert sidecar[1].text == "Ember: Um. I can explain the lamp."
    inside = run_ffmpeg(["-i", report.path, "-map", "0:s:0", "-f", "srt", "-y", tmp_path / "inside.srt"])
    assert inside is not None
    assert [t for c in parse_srt((tmp_path / "inside.srt").read_text()) for t in (c.start_s, c.end_s)] == \
        pytest.approx([t for c in sidecar for t in (c.start_s, c.end_s)], abs=1e-6)
    assert report.vtt_path.read_text().startswith("WEBVTT")


async def test_a_line_too_long_for_its_shot_is_reported_and_the_shot_held(db, tmp_path):
    long_line = "The lamp has gone out, the boats are still at sea, and the storm is coming in from the north."
    await seed_scene(db, tmp_path, [(1.0, [{"character": "mika", "line": long_line}]), (1.0, [])])
    report = await build_scene_video(db, "harbor", tmp_path, PiperSynthesizer())
    assert len(report.timing_problems) == 1 and report.timing_problems[0].startswith("shot 1:")
    assert "lengthened" in report.timing_problems[0]
    assert report.held_s[0] > 1.0 and report.held_s[1] == 0
    assert report.join["method"] == "normalised" and "hold" in report.join["reason"]
    line = report.lines[0]
    assert line["end_s"] <= report.duration_s  # not cut
    assert report.duration_s == pytest.approx(2.0 + report.held_s[0], abs=FRAME_S)
    assert report.av_difference_s <= FRAME_S


async def test_music_is_ducked_under_speech_by_at_least_the_configured_amount(db, tmp_path):
    make_music(tmp_path / "music" / "bed.wav", hz=2500)
    # a silent 4 s shot at the end: the compressor has let go well before the bed fades out
    await seed_scene(db, tmp_path, [*DIALOGUE, (4.0, [])], music="music/bed.wav")
    settings = MixSettings(music_volume=0.3, duck_db=8.0)
    report = await build_scene_video(db, "harbor", tmp_path, PiperSynthesizer(), SceneSoundOptions(mix=settings))
    assert report.audio_state == "complete" and report.sound == "dialogue + ducked music"
    x = decoded_audio(report.path, tmp_path / "mixed.wav")
    # After the last line has been released and before the bed fades out, nobody speaks.
    quiet_from, quiet_to = report.lines[-1]["end_s"] + 2.0, report.duration_s - settings.fade_out_s - 0.05
    assert quiet_to - quiet_from > 1.0
    free = tone_db(x, quiet_from, quiet_to, 2500)
    # The bed at 30 % where nobody speaks, raised with the whole mix by the one gain that delivers it at -16 LUFS.
    assert free == pytest.approx(20 * np.log10(0.125 * 0.3) + report.loudness["gain_db"], abs=1.0)
    for line in report.lines:
        under = tone_db(x, line["start_s"] + 0.1, line["end_s"], 2500)
        assert free - under >= settings.duck_db, (line, free, under)
    assert report.av_difference_s <= FRAME_S


async def test_failing_tts_or_missing_music_leaves_a_valid_video_saying_why(db, tmp_path):
    await seed_scene(db, tmp_path, DIALOGUE, music="music/missing.wav")
    with TtsDouble() as tts:
        tts.down = True
        synth = LiveSynthesizer(TtsClient(tts.url))
        report = await build_scene_video(db, "harbor", tmp_path, synth)
        info = media_info(report.path)
        assert info.video is not None and info.audio is not None
        assert report.duration_s == pytest.approx(9.5, abs=FRAME_S) and report.av_difference_s <= FRAME_S
        assert report.audio_state == "partial" and report.sound == "silence"
        assert any("speech failed at shot 1 line 1" in p and "503" in p for p in report.audio_problems)
        assert any("music file not found" in p for p in report.audio_problems)
        assert report.srt_path.is_file()  # subtitles still come, timed by estimate

        tts.down = False  # the next build tries the speech again
        again = await build_scene_video(db, "harbor", tmp_path, synth)
    assert [p for p in again.audio_problems if "speech" in p] == []
    assert again.sound == "dialogue" and again.synthesised == 3


async def test_a_music_url_is_refused_unless_allowed(db, tmp_path):
    await seed_scene(db, tmp_path, DIALOGUE[:1], project_music="http://127.0.0.1:9/bed.mp3")
    report = await build_scene_video(db, "harbor", tmp_path, PiperSynthesizer())
    assert report.audio_state == "partial"
    assert "STUDIO_MUSIC_URLS_ALLOWED" in report.audio_problems[0]
    assert report.sound == "dialogue"


async def test_editing_one_line_resynthesises_that_line_and_renders_no_clip(db, tmp_path):
    await seed_scene(db, tmp_path, DIALOGUE)
    clips = sorted((tmp_path / "shots").rglob("*.mp4"))
    stamps = [c.stat().st_mtime_ns for c in clips]
    first = await build_scene_video(db, "harbor", tmp_path, PiperSynthesizer())
    assert first.synthesised == 3
    await db.execute("""UPDATE shots SET dialogue = jsonb_set(dialogue, '{1,line}', '"You can TALK?"')
                        WHERE position = 2""")
    shots_before = await db.fetch("SELECT id, status, clip_path, updated_at FROM shots ORDER BY id")
    second = await build_scene_video(db, "harbor", tmp_path, PiperSynthesizer())
    assert [l["synthesised"] for l in second.lines] == [False, False, True]
    assert second.join["method"] == "kept"
    assert [c.stat().st_mtime_ns for c in clips] == stamps
    assert await db.fetch("SELECT id, status, clip_path, updated_at FROM shots ORDER BY id") == shots_before
    assert "You can TALK?" in second.srt_path.read_text()


async def test_clips_of_different_sizes_are_normalised_and_a_missing_clip_is_not_ready(db, tmp_path):
    await seed_scene(db, tmp_path, DIALOGUE[:2])
    from tests.scene_sound_seed import make_clip
    make_clip(tmp_path / "shots/harbor/shot-2.mp4", 4.0, size="160x90")
    report = await build_scene_video(db, "harbor", tmp_path, PiperSynthesizer())
    assert report.join["method"] == "normalised" and "differs" in report.join["reason"]
    assert media_info(report.path).video.width == 320
    (tmp_path / "shots/harbor/shot-1.mp4").unlink()
    with pytest.raises(SceneNotReady, match="shot 1 has no clip"):
        await build_scene_video(db, "harbor", tmp_path, PiperSynthesizer())


async def test_a_music_url_is_fetched_once_when_allowed(db, tmp_path):
    from aiohttp import web

    from tests.doubles.server_thread import ServerThread

    bed = make_music(tmp_path / "served.wav", hz=2500)
    hits = []

    async def serve(request):
        hits.append(request.path)
        return web.Response(body=bed.read_bytes(), content_type="audio/wav")

    def app():
        application = web.Application()
        application.router.add_get("/bed.wav", serve)
        return application

    server = ServerThread(app)
    server.start()
    try:
        await seed_scene(db, tmp_path, DIALOGUE[:1], music=f"{server.url}/bed.wav")
        options = SceneSoundOptions(music_urls_allowed=True)
        report = await build_scene_video(db, "harbor", tmp_path, PiperSynthesizer(), options)
        again = await build_scene_video(db, "harbor", tmp_path, PiperSynthesizer(), options)
    finally:
        server.stop()
    assert report.audio_state == again.audio_state == "complete"
    assert report.sound == "dialogue + ducked music" and hits == ["/bed.wav"]
