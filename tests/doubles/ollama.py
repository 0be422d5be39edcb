"""An Ollama test double: a real HTTP server on 127.0.0.1 speaking /api/chat, /api/ps and /api/tags.

What the model "writes" is scripted. `replies` is a queue consumed one per chat request; each entry is
- a dict: the JSON the model answers (sent as a string in message.content, as Ollama does),
- a str: "malformed" (prose instead of JSON), "truncated" (cut-off JSON with done_reason "length"),
  "http500" (the runner crashed), or any other text, sent as the content verbatim,
- a `Scripted(what, delay_s=...)` for one of the above answered after a delay.
When the queue is empty, `answer(request_json)` decides (a dict or a content string); `request_image`
gives it the image, so a test or benchmark can answer per image. Every request body is kept in
`requests`, in arrival order, including those answered 404.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

from aiohttp import web

from tests.doubles.server_thread import HttpDouble

SPECIAL_KINDS = ("malformed", "truncated", "http500")
MALFORMED_CONTENT = "Sure! Here is my review of the image: it looks great."
RUNNER_CRASHED = "llama runner process has terminated: signal: killed"


@dataclass(frozen=True)
class Scripted:
    what: dict | str
    delay_s: float = 0.0


def good_answer(request: dict) -> dict:
    return {"quality_score": 0.9, "solo": True, "checklist": [{"item": "on model", "passed": True}],
            "species_ok": None, "reason": "clean and on-model"}


def request_image(request: dict) -> bytes:
    """The first image of the last user message, decoded (the double's answer functions use it)."""
    user = [m for m in request.get("messages", []) if m.get("role") == "user"][-1]
    return base64.b64decode(user["images"][0], validate=True)


def _timestamp() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"


def _model_details(name: str) -> dict:
    vision = "vl" in name or "llava" in name
    return {"parent_model": "", "format": "gguf", "family": "qwen25vl" if vision else "qwen2",
            "families": ["qwen25vl" if vision else "qwen2"], "parameter_size": "8.3B" if vision else "7.6B",
            "quantization_level": "Q4_K_M"}


class OllamaDouble(HttpDouble):
    def __init__(self, *, models: tuple[str, ...] = ("qwen2.5vl:7b", "qwen2.5:7b"),
                 answer: Callable[[dict], dict | str] = good_answer, delay_s: float = 0.0,
                 loaded: tuple[str, ...] | None = None):
        super().__init__()
        self.models = models
        self.answer = answer
        self.delay_s = delay_s  # before every chat reply, on top of a Scripted delay
        self.replies: deque[dict | str | Scripted] = deque()
        self.requests: list[dict] = []
        # What /api/ps reports: the first model unless told otherwise, plus every model chatted with.
        self.loaded: list[str] = list(models[:1] if loaded is None else loaded)

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)  # images arrive base64-encoded in JSON
        app.router.add_post("/api/chat", self._chat)
        app.router.add_get("/api/ps", self._ps)
        app.router.add_get("/api/tags", self._tags)
        return app

    def _next_script(self, request: dict) -> tuple[dict | str, float]:
        script = self.replies.popleft() if self.replies else self.answer(request)
        if isinstance(script, Scripted):
            return script.what, script.delay_s
        return script, 0.0

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic_ns()
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return web.json_response({"error": "invalid character looking for beginning of value"}, status=400)
        self.requests.append(body)
        model = body.get("model")
        if model not in self.models:
            return web.json_response({"error": f"model '{model}' not found"}, status=404)
        script, delay_s = self._next_script(body)
        if self.delay_s + delay_s:
            await asyncio.sleep(self.delay_s + delay_s)
        if script == "http500":
            return web.json_response({"error": RUNNER_CRASHED}, status=500)
        if model not in self.loaded:
            self.loaded.append(model)
        content, done_reason = self._content(script, body)
        reply = {
            "model": model, "created_at": _timestamp(),
            "message": {"role": "assistant", "content": content},
            "done_reason": done_reason, "done": True,
            "total_duration": time.monotonic_ns() - started + 1_000_000, "load_duration": 1_200_000,
            "prompt_eval_count": 812, "prompt_eval_duration": 400_000_000,
            "eval_count": max(1, len(content) // 4), "eval_duration": 800_000_000,
        }
        if body.get("stream", True) is not False:
            return await self._stream(request, reply)
        return web.json_response(reply)

    def _content(self, script: dict | str, request: dict) -> tuple[str, str]:
        if script == "malformed":
            return MALFORMED_CONTENT, "stop"
        if script == "truncated":
            # What num_predict or a full context does: the answer up to a point, then nothing.
            answer = self.answer(request)
            if isinstance(answer, str) and answer in SPECIAL_KINDS:
                answer = good_answer(request)
            full = answer if isinstance(answer, str) else json.dumps(answer)
            return full[: len(full) // 2], "length"
        return (script if isinstance(script, str) else json.dumps(script)), "stop"

    async def _stream(self, request: web.Request, reply: dict) -> web.StreamResponse:
        # Ollama's default: NDJSON chunks, the last one carrying done and the durations.
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        chunk = {"model": reply["model"], "created_at": reply["created_at"], "message": reply["message"],
                 "done": False}
        last = {**reply, "message": {"role": "assistant", "content": ""}}
        for line in (chunk, last):
            await response.write(json.dumps(line).encode() + b"\n")
        await response.write_eof()
        return response

    async def _ps(self, request: web.Request) -> web.Response:
        return web.json_response({"models": [{
            "name": name, "model": name, "size": 6_654_289_920, "digest": "5ced39dfa4ba" + "0" * 52,
            "details": _model_details(name), "expires_at": "2026-11-25T10:00:00.000000Z",
            "size_vram": 6_654_289_920, "context_length": 8192} for name in self.loaded]})

    async def _tags(self, request: web.Request) -> web.Response:
        return web.json_response({"models": [{
            "name": name, "model": name, "modified_at": "2026-11-01T09:30:00.000000Z", "size": 5_969_245_856,
            "digest": "5ced39dfa4ba" + "0" * 52, "details": _model_details(name)} for name in self.models]})
