"""A live TTS server double: `POST /v1/audio/speech` over real HTTP on 127.0.0.1.

    with TtsDouble() as tts:
        TtsClient(tts.url) ...

Like the OpenAI-shaped servers it stands for: the body needs `model`, `input` and `voice` (else
400 {"error": {"message", "type": "invalid_request_error"}}), `response_format` defaults to mp3
(only wav is made here; any other answers 400), the audio is 24 kHz mono 16-bit WAV that starts with
a short silence before the speech, and `speed` (0.25-4.0) shortens or lengthens it. The "speech" is
one voiced burst (a 140 Hz buzz with harmonics) per word with short pauses: audio shaped like speech
for timing and mixing, not words.
Controls: `fail_next(status)`, `down` (every request answers 503). Records: `requests` (bodies).
"""

from __future__ import annotations

import io
import wave

import numpy as np
from aiohttp import web

from tests.doubles.server_thread import HttpDouble

RATE = 24_000
LEAD_IN_S = 0.12
WORD_S = 0.28
PAUSE_S = 0.07


def speech_like(text: str, speed: float) -> bytes:
    words = max(1, len(text.split()))
    t = np.arange(int(RATE * WORD_S / speed)) / RATE
    burst = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 8)) * np.hanning(len(t)) ** 0.3
    pause = np.zeros(int(RATE * PAUSE_S / speed))
    signal = np.concatenate([np.zeros(int(RATE * LEAD_IN_S))] + [np.concatenate([burst, pause])] * words)
    pcm = (signal / np.abs(signal).max() * 0.7 * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(pcm.tobytes())
    return out.getvalue()


def _invalid(message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "invalid_request_error", "param": None,
                                        "code": None}}, status=400)


class TtsDouble(HttpDouble):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[dict] = []
        self.down = False
        self._failures: list[int] = []

    def fail_next(self, status: int = 500) -> None:
        self._failures.append(status)

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/audio/speech", self._speech)
        return app

    async def _speech(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _invalid("We could not parse the JSON body of your request.")
        self.requests.append(body)
        if self.down:
            return web.json_response({"error": {"message": "service unavailable", "type": "server_error"}},
                                     status=503)
        if self._failures:
            status = self._failures.pop(0)
            return web.json_response({"error": {"message": f"induced failure {status}", "type": "server_error"}},
                                     status=status)
        for field in ("model", "input", "voice"):
            if not body.get(field):
                return _invalid(f"Missing required parameter: '{field}'.")
        if body.get("response_format", "mp3") != "wav":
            return _invalid(f"this double only makes wav, not {body.get('response_format', 'mp3')!r}")
        speed = float(body.get("speed", 1.0))
        if not 0.25 <= speed <= 4.0:
            return _invalid(f"{speed} is not in [0.25, 4.0] - 'speed'")
        return web.Response(body=speech_like(body["input"], speed), content_type="audio/wav")
