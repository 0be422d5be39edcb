"""Voices: spec and DB, offline piper with the bundled voice, the live TTS client, the line cache."""

import wave

import numpy as np
import pytest
import yaml

from studio.audio.line_cache import SAMPLE_RATE, LineAudioCache
from studio.audio.tts import LiveSynthesizer, PiperSynthesizer, SpeechFailed
from studio.cli import main as studio
from studio.clients.tts import TtsClient
from studio.db.pool import connect
from studio.domain.voices import Voice, voice_for
from tests.conftest import EXAMPLE_SPEC
from tests.doubles.tts import LEAD_IN_S, TtsDouble


def samples(path):
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (SAMPLE_RATE, 1, 2)
        return np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(float) / 32768


def dominant_hz(x):
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)[spectrum.argmax()]


async def test_piper_speaks_offline_and_a_line_is_synthesised_once(tmp_path):
    cache = LineAudioCache(tmp_path, PiperSynthesizer())
    voice = voice_for("mika", None)
    first = await cache.line(voice, "The boats are still out there.")
    assert first.synthesised and 0.8 < first.duration_s < 4.0
    x = samples(first.path)
    assert np.abs(x[:240]).max() > 10 ** (-50 / 20)  # trimmed: the file opens on speech, not silence
    again = await cache.line(voice, "The  boats are still out there. ")
    assert not again.synthesised and again.path == first.path
    other = await cache.line(voice, "The boats are home.")
    assert other.synthesised and other.key != first.key
    assert len(list(cache.root.rglob("*.wav"))) == 2


async def test_pitch_sets_characters_apart(tmp_path):
    cache = LineAudioCache(tmp_path, PiperSynthesizer())
    low = await cache.line(Voice(pitch_semitones=-4), "Aaah.")
    high = await cache.line(Voice(pitch_semitones=4), "Aaah.")
    assert low.key != high.key
    assert dominant_hz(samples(high.path)) > dominant_hz(samples(low.path)) * 1.3


async def test_piper_refuses_a_voice_it_does_not_have(tmp_path):
    with pytest.raises(SpeechFailed, match="not bundled"):
        await LineAudioCache(tmp_path, PiperSynthesizer()).line(Voice(voice="alloy"), "Hi.")


async def test_live_tts_is_asked_in_the_common_shape_and_its_lead_in_trimmed(tmp_path):
    with TtsDouble() as tts:
        cache = LineAudioCache(tmp_path, LiveSynthesizer(TtsClient(tts.url)))
        line = await cache.line(Voice(voice="nova", model="kokoro", speed=1.25), "You can talk?")
        await cache.line(Voice(voice="nova", model="kokoro", speed=1.25), "You can talk?")
    assert tts.requests == [{"model": "kokoro", "input": "You can talk?", "voice": "nova",
                             "response_format": "wav", "speed": 1.25}]
    spoken = 3 * (0.28 + 0.07) / 1.25
    assert line.duration_s == pytest.approx(spoken, abs=0.08)  # the double's silent lead-in is gone
    assert line.duration_s < spoken + LEAD_IN_S - 0.05


async def test_a_failing_or_absent_tts_server_says_why_and_caches_nothing(tmp_path):
    with TtsDouble() as tts:
        cache = LineAudioCache(tmp_path, LiveSynthesizer(TtsClient(tts.url)))
        tts.fail_next(500)
        with pytest.raises(SpeechFailed, match="500.*induced failure"):
            await cache.line(Voice(), "Hello.")
        assert (await cache.line(Voice(), "Hello.")).synthesised  # the next try speaks
        url = tts.url
    with pytest.raises(SpeechFailed, match="unreachable"):
        await LineAudioCache(tmp_path / "b", LiveSynthesizer(TtsClient(url))).line(Voice(), "Hello.")
    assert not list((tmp_path / "b").rglob("*.wav"))


def test_a_character_voice_comes_from_the_spec_into_the_database(studio_env, db_url, tmp_path, capsys):
    spec = yaml.safe_load(EXAMPLE_SPEC.read_text())
    spec["characters"][0]["voice"] = {"pitch_semitones": 2.5, "length_scale": 1.1}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert studio(["import", str(path)]) == 0

    async def voices():
        async with connect(db_url) as conn:
            return {r["slug"]: r["voice"] for r in await conn.fetch("SELECT slug, voice FROM characters")}

    import asyncio
    assert asyncio.run(voices()) == {"mika": {"pitch_semitones": 2.5, "length_scale": 1.1}, "ember": {}}
    spec["characters"][0]["voice"] = {"pitch_semitones": 30}
    path.write_text(yaml.safe_dump(spec))
    assert studio(["import", str(path)]) != 0
    assert "pitch_semitones" in capsys.readouterr().err
