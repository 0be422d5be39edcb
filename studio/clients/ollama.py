"""The Ollama client: vision review and story planning on the GPU box.

Facts this relies on (DESIGN §6): `stream: false`, because an error in the middle of a stream arrives
as a last line with HTTP 200; images as raw base64 without a `data:` prefix; `format` takes a JSON
schema; durations in replies are nanoseconds; an unknown model is a 404 `{"error": "model 'x' not found"}`.

Inside `async with ollama.session():` the calls share one kept-alive HTTP client (a batch reviews
hundreds of images); a call outside a session opens its own and closes it when it returns.
"""

from __future__ import annotations

import base64
import contextlib
import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from studio.clients.http import HttpClients, LoopSessions

if TYPE_CHECKING:
    import httpx  # imported where a call is made (studio/clients/http.py says why)

NANOSECONDS = 1e9


class OllamaError(RuntimeError):
    """Ollama answered with an error, or with something that is not a chat reply."""


class OllamaModelNotFound(OllamaError):
    """The model is not installed: asking again will not help until someone pulls it."""


class OllamaUnreachable(OllamaError):
    """No connection could be made. The message starts with "cannot reach" (Echo's fallback relies on it)."""


class OllamaTimeout(OllamaError):
    """Connected, but no answer within `timeout_s`."""


@dataclass(frozen=True)
class ChatReply:
    content: str
    done_reason: str
    model: str
    total_seconds: float
    load_seconds: float = 0.0
    prompt_eval_count: int = 0
    eval_count: int = 0
    # The whole reply as Ollama sent it, for fields this class does not name.
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def truncated(self) -> bool:
        # The model ran out of context or num_predict: the content is cut off mid-answer.
        return self.done_reason == "length"

    @classmethod
    def from_json(cls, reply: dict, requested_model: str) -> "ChatReply":
        message = reply.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            raise OllamaError(f"Ollama's reply has no message content (keys: {sorted(reply)})")
        return cls(content=message["content"], done_reason=str(reply.get("done_reason") or ""),
                   model=str(reply.get("model") or requested_model),
                   total_seconds=(reply.get("total_duration") or 0) / NANOSECONDS,
                   load_seconds=(reply.get("load_duration") or 0) / NANOSECONDS,
                   prompt_eval_count=int(reply.get("prompt_eval_count") or 0),
                   eval_count=int(reply.get("eval_count") or 0), raw=reply)


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"])
    return str(body)[:300]


def _on_last_user_message(messages: list[dict], images: list) -> list[dict]:
    copied = [dict(m) for m in messages]
    users = [i for i, m in enumerate(copied) if m.get("role") == "user"]
    if not users:
        raise ValueError("images need a user message to go on")
    copied[users[-1]]["images"] = images
    return copied


def chat_request_body(body: dict, images: list[bytes]) -> bytes:
    """`body` as JSON, with `images` as raw base64 on the last user message of its `messages`.

    A generated picture is up to ~2 MB. Put in the document as a str, its ~2.7 MB of base64 were
    scanned by the JSON encoder for characters to escape (~5 ms of CPU for a 2 MB picture), though
    base64 has none: the document is encoded with a mark in each image's place, and the base64 bytes
    are joined in where the marks are.
    """
    token = uuid.uuid4().hex  # no text of the messages can hold it
    marks = [f"image-{token}-{n}" for n in range(len(images))]
    if images:
        body = {**body, "messages": _on_last_user_message(body["messages"], marks)}
    document = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    pieces = []
    for mark, image in zip(marks, images):
        before, document = document.split(f'"{mark}"'.encode("ascii"), 1)
        pieces += [before, b'"', base64.b64encode(image), b'"']
    pieces.append(document)
    return b"".join(pieces)


class OllamaClient:
    def __init__(self, url: str = "http://127.0.0.1:11434", *, vision_model: str = "qwen2.5vl:7b",
                 text_model: str = "qwen2.5:7b",
                 # Ollama's default (4096) is too small for an image plus a checklist: answers get cut off.
                 num_ctx: int = 8192,
                 # How long the model stays on the GPU after a request; a batch of reviews reuses it.
                 keep_alive: str = "10m",
                 # Includes loading the model onto the GPU on the first request, which can take a minute.
                 timeout_s: float = 300.0):
        self.url, self.vision_model, self.text_model = url.rstrip("/"), vision_model, text_model
        self.num_ctx, self.keep_alive, self.timeout_s = num_ctx, keep_alive, timeout_s
        self._sessions: LoopSessions = LoopSessions()

    def session(self) -> contextlib.AbstractAsyncContextManager[HttpClients]:
        """Share one HTTP client between the calls made in this event loop until the block ends."""
        return self._sessions.session(lambda: HttpClients(self.timeout_s))

    async def _send(self, method: str, path: str, timeout_s: float, **kwargs) -> httpx.Response:
        import httpx

        try:
            async with self.session() as clients:
                return await clients.get(self.url).request(method, path, timeout=timeout_s, **kwargs)
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout):
                raise OllamaUnreachable(f"cannot reach Ollama at {self.url}: ConnectTimeout") from None
            raise OllamaTimeout(f"Ollama at {self.url} did not answer {path} within {timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise OllamaUnreachable(f"cannot reach Ollama at {self.url}: {type(exc).__name__}") from None

    async def chat(self, model: str, messages: list[dict], *, format_schema: dict | None = None,
                   images: list[bytes] | None = None, options: dict | None = None) -> ChatReply:
        """One non-streaming chat turn. `images` go on the last user message."""
        body: dict = {
            "model": model,
            "messages": messages,
            "stream": False,
            "keep_alive": self.keep_alive,
            "options": {"num_ctx": self.num_ctx, **(options or {})},
        }
        if format_schema is not None:
            body["format"] = format_schema
        response = await self._send("POST", "/api/chat", self.timeout_s, content=chat_request_body(body, images or []),
                                    headers={"content-type": "application/json"})
        # Ollama's own 404 names the model; a 404 page from something else at this URL is a plain error.
        if response.status_code == 404 and "model" in _error_message(response):
            raise OllamaModelNotFound(_error_message(response))
        if response.status_code != 200:
            raise OllamaError(f"Ollama /api/chat answered {response.status_code}: {_error_message(response)}")
        try:
            reply = response.json()
        except ValueError:
            raise OllamaError(f"Ollama /api/chat answered with non-JSON: {response.text[:200]!r}") from None
        if not isinstance(reply, dict):
            raise OllamaError(f"Ollama /api/chat answered with {type(reply).__name__}, not an object")
        if reply.get("error"):
            raise OllamaError(str(reply["error"]))
        return ChatReply.from_json(reply, model)

    async def _get(self, path: str) -> dict:
        # Status probes: short timeout, so a health page does not hang on a stuck server.
        response = await self._send("GET", path, min(self.timeout_s, 5.0))
        if response.status_code != 200:
            raise OllamaError(f"Ollama {path} answered {response.status_code}: {_error_message(response)}")
        try:
            return response.json()
        except ValueError:
            raise OllamaError(f"Ollama {path} answered with non-JSON: {response.text[:200]!r}") from None

    async def ps(self) -> list[dict]:
        """Models loaded on the GPU right now (name, size_vram, expires_at, ...)."""
        return (await self._get("/api/ps")).get("models", [])

    async def tags(self) -> list[str]:
        """Names of the installed models."""
        return [m["name"] for m in (await self._get("/api/tags")).get("models", [])]
