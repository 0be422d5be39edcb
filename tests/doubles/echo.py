"""An Echo test double: the assumed contract of resources/echo.py, over real HTTP on 127.0.0.1.

    with EchoDouble() as echo:
        EchoClient(echo.url) ...

Chat answers "echo: <last user message>"; enhance answers "<prompt>, <character>, <style>, masterpiece".
Controls: `fail_next(status)` (the next POST answers that status with {"error": ...}), `healthy`,
`replies` (a queue of scripted chat answers, one per chat request: a dict is answered as its JSON
text, a string as it is; the echo answers again once it is empty).
Records: `requests` ([(path, body)] of every POST).
"""

from __future__ import annotations

import json

from aiohttp import web

from tests.doubles.server_thread import HttpDouble


class EchoDouble(HttpDouble):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, dict]] = []
        self.healthy = True
        self.replies: list[dict | str] = []
        self._failures: list[int] = []

    def fail_next(self, status: int = 500) -> None:
        self._failures.append(status)

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/echo/chat", self._chat)
        app.router.add_post("/api/echo/enhance-prompt", self._enhance)
        app.router.add_get("/api/echo/health", self._health)
        return app

    async def _record(self, request: web.Request) -> tuple[dict, web.Response | None]:
        body = await request.json()
        self.requests.append((request.path, body))
        if self._failures:
            status = self._failures.pop(0)
            return body, web.json_response({"error": f"scripted failure {status}"}, status=status)
        return body, None

    async def _chat(self, request: web.Request) -> web.Response:
        body, failure = await self._record(request)
        if failure:
            return failure
        if self.replies:
            reply = self.replies.pop(0)
            return web.json_response({"response": reply if isinstance(reply, str) else json.dumps(reply),
                                      "model": body.get("model")})
        last_user = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
        return web.json_response({"response": f"echo: {last_user}", "model": body.get("model")})

    async def _enhance(self, request: web.Request) -> web.Response:
        body, failure = await self._record(request)
        if failure:
            return failure
        context = body.get("context") or {}
        parts = [body["prompt"], *(context[k] for k in ("character_name", "style") if context.get(k)), "masterpiece"]
        return web.json_response({"prompt": ", ".join(parts)})

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": self.healthy}, status=200 if self.healthy else 503)
