"""An Ollama test double: /api/chat (non-streaming), /api/ps, /api/tags, with scripted answers.

`replies` is a queue of what to answer next: a dict (the JSON the model "writes"), or one of
"malformed", "truncated", "http500". When it is empty, `answer(request) -> dict` decides.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Callable

from aiohttp import web

from tests.doubles.server_thread import ServerThread


def good_answer(request: dict) -> dict:
    return {"quality_score": 0.9, "solo": True, "checklist": [{"item": "on model", "passed": True}],
            "species_ok": None, "reason": "clean and on-model"}


class OllamaDouble:
    def __init__(self, *, models: tuple[str, ...] = ("qwen2.5vl:7b", "qwen2.5:7b"),
                 answer: Callable[[dict], dict] = good_answer, delay_s: float = 0.0):
        self.models = models
        self.answer = answer
        self.delay_s = delay_s
        self.replies: list = []
        self.requests: list[dict] = []
        self._server = ServerThread(self._app)

    @property
    def url(self) -> str:
        return self._server.url

    def __enter__(self) -> "OllamaDouble":
        self._server.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop()

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/api/chat", self._chat)
        app.router.add_get("/api/ps", self._ps)
        app.router.add_get("/api/tags", self._tags)
        return app

    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        if body.get("model") not in self.models:
            return web.json_response({"error": f"model '{body.get('model')}' not found"}, status=404)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        script = self.replies.pop(0) if self.replies else None
        if script == "http500":
            return web.json_response({"error": "llama runner process has terminated"}, status=500)
        content = json.dumps(script if isinstance(script, dict) else self.answer(body))
        done_reason = "stop"
        if script == "malformed":
            content = "Sure! Here is my review: the image looks great"
        elif script == "truncated":
            content, done_reason = content[: len(content) // 2], "length"
        return web.json_response({
            "model": body["model"], "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
            "message": {"role": "assistant", "content": content}, "done": True, "done_reason": done_reason,
            "total_duration": 1_234_000_000, "load_duration": 12_000_000, "prompt_eval_count": 812,
            "prompt_eval_duration": 400_000_000, "eval_count": 64, "eval_duration": 800_000_000,
        })

    async def _ps(self, request: web.Request) -> web.Response:
        return web.json_response({"models": [{
            "name": self.models[0], "model": self.models[0], "size": 6_000_000_000, "size_vram": 6_000_000_000,
            "digest": "0" * 64, "details": {"family": "qwen25vl", "parameter_size": "8.3B"},
            "expires_at": "2026-11-25T10:00:00Z"}]})

    async def _tags(self, request: web.Request) -> web.Response:
        return web.json_response({"models": [{"name": m, "model": m, "size": 1, "digest": "0" * 64,
                                              "modified_at": "2026-11-01T00:00:00Z"} for m in self.models]})
