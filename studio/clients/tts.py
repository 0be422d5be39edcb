"""A live text-to-speech server speaking the common `POST /v1/audio/speech` (OpenAI's shape).

    POST {url}/v1/audio/speech  {"model", "input", "voice", "response_format": "wav", "speed"}
                                -> 200 the audio bytes (Content-Type audio/wav)
    errors                      -> 4xx/5xx {"error": {"message": ...}} (or {"detail": ...})

Many local servers (openedai-speech, Kokoro-FastAPI, LocalAI) speak it; an API key, if set, goes in
`Authorization: Bearer`. No Dagster here: resources and the audio code hand this client around.
"""

from __future__ import annotations

import httpx

from studio.clients.http import http_client


class TtsError(RuntimeError):
    """The server answered, but not with audio."""


class TtsUnavailable(TtsError):
    """The server could not be reached."""


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        error = body.get("error") or body.get("detail") or body
        if isinstance(error, dict):
            error = error.get("message") or error
        return str(error)[:200]
    return str(body)[:200]


class TtsClient:
    def __init__(self, url: str, *, api_key: str | None = None, connect_timeout_s: float = 2.0,
                 timeout_s: float = 60.0):
        if not url:
            raise ValueError("STUDIO_TTS_URL: a live TTS server needs a URL")
        self.url = url.rstrip("/")
        self._api_key = api_key
        self._timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s)

    async def speech(self, text: str, *, voice: str, model: str = "tts-1", speed: float = 1.0,
                     response_format: str = "wav") -> bytes:
        """The spoken `text` as audio bytes in `response_format`."""
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        body = {"model": model, "input": text, "voice": voice, "response_format": response_format, "speed": speed}
        try:
            async with http_client(self.url, self._timeout) as client:
                response = await client.post("/v1/audio/speech", json=body, headers=headers)
        except httpx.TransportError as exc:
            raise TtsUnavailable(f"TTS server {self.url} unreachable: {exc!r}") from exc
        if response.status_code != 200:
            raise TtsError(f"TTS server answered {response.status_code}: {_detail(response)}")
        if not response.content or response.headers.get("content-type", "").startswith("application/json"):
            raise TtsError(f"TTS server answered 200 without audio: {_detail(response)}")
        return response.content
