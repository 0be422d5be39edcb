"""Auth before anything else: the caller is decided from the headers, before the body is read.

Every path is protected except the review page and its files, the API docs and the liveness probe.
A refusal is logged with its reason and the caller's address (never the token). Repeated failures
from one address are throttled: past `FAILURES_PER_WINDOW` in `WINDOW_S` it gets 429 with
Retry-After and nothing more is checked or logged for it until the window ends.
"""

from __future__ import annotations

import logging
import time

from fastapi import HTTPException
from starlette.requests import Request

from api.auth import authenticate, client_address
from api.middleware.asgi import send_json
from studio.settings import Settings

log = logging.getLogger("studio.api.auth")

# The pages are files with no data in them (what they show comes from /api, with the token), so a person
# outside the trusted networks can open them and hand the token over in the fragment.
PUBLIC_PATHS = frozenset({"/", "/gallery", "/studio", "/api/health/live", "/openapi.json", "/docs",
                          "/docs/oauth2-redirect"})
PUBLIC_PREFIXES = ("/static/", "/docs/static/")
WINDOW_S = 60.0
FAILURES_PER_WINDOW = 30


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


class FailureThrottle:
    """Failures per address in fixed windows; old windows are dropped as they pass."""

    def __init__(self, limit: int = FAILURES_PER_WINDOW, window_s: float = WINDOW_S):
        self.limit, self.window_s = limit, window_s
        self.windows: dict[str, tuple[float, int]] = {}

    def _window(self, address: str, now: float) -> tuple[float, int]:
        start, count = self.windows.get(address, (now, 0))
        return (now, 0) if now - start >= self.window_s else (start, count)

    def retry_after(self, address: str) -> int | None:
        now = time.monotonic()
        start, count = self._window(address, now)
        return max(1, int(self.window_s - (now - start)) + 1) if count >= self.limit else None

    def failed(self, address: str) -> int:
        now = time.monotonic()
        if len(self.windows) > 10_000:  # many addresses: forget the finished windows
            self.windows = {a: w for a, w in self.windows.items() if now - w[0] < self.window_s}
        start, count = self._window(address, now)
        self.windows[address] = (start, count + 1)
        return count + 1


class AuthGate:
    def __init__(self, app, settings: Settings):
        self.app = app
        self.settings = settings
        self.throttle = FailureThrottle()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or is_public(scope["path"]):
            return await self.app(scope, receive, send)
        request = Request(scope)
        peer = client_address(request, self.settings)
        address = str(peer or "unknown")
        if (wait := self.throttle.retry_after(address)) is not None:
            return await send_json(send, 429, {"detail": "too many failed logins from this address"},
                                   {"Retry-After": str(wait)})
        try:
            request.state.user = authenticate(request, self.settings, peer)
        except HTTPException as refusal:
            count = self.throttle.failed(address)
            if count <= FAILURES_PER_WINDOW:
                log.warning("auth refused for %s %s from %s: %s%s", scope["method"], scope["path"][:200], address,
                            refusal.detail, " (further failures from it are refused for a while)"
                            if count == FAILURES_PER_WINDOW else "")
            return await send_json(send, refusal.status_code, {"detail": refusal.detail}, refusal.headers)
        return await self.app(scope, receive, send)
