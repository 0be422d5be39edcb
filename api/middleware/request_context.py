"""Per request: an id, an access log line, request metrics and the security headers.

The id is the caller's X-Request-ID when it is a plain token (letters, digits, `.`, `_`, `-`, at most
64), otherwise a new one; it is returned in X-Request-ID and every log record made while the request
runs carries it (`%(request_id)s`, api/logging_setup.py). The access line has the method, the path
without its query string (a token passed there is never logged), the status, the duration and the
principal.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from api.logging_setup import request_id_var
from api.metrics import Metrics

access_log = logging.getLogger("studio.api.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
# API answers are data, never a document: nothing in them may run or load anything.
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")


def _request_id(scope: dict) -> str:
    for key, value in scope.get("headers", ()):
        if key == b"x-request-id":
            text = value.decode("latin-1")
            if _REQUEST_ID.match(text):
                return text
    return uuid.uuid4().hex


class RequestContext:
    def __init__(self, app, metrics: Metrics, allowed_methods=None):
        self.app = app
        self.metrics = metrics
        self.allowed_methods = allowed_methods

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = _request_id(scope)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                present = {key.lower() for key, _ in headers}
                headers.append((b"x-request-id", request_id.encode()))
                headers += [h for h in SECURITY_HEADERS if h[0] not in present]
                if status == 405 and self.allowed_methods is not None:
                    # Routes of one path are separate routes; Starlette's Allow names only the first.
                    methods = self.allowed_methods(getattr(scope.get("route"), "path_format", ""))
                    if methods:
                        headers = [h for h in headers if h[0] != b"allow"]
                        headers.append((b"allow", ", ".join(sorted(methods)).encode()))
                if b"content-security-policy" not in present and not scope["path"].startswith("/docs"):
                    headers.append(API_CSP)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe_request(scope["method"], route, status, elapsed)
            if access_log.isEnabledFor(logging.INFO):
                user = scope.get("state", {}).get("user")
                access_log.info("%s %s %d %.1fms principal=%s", scope["method"], scope["path"][:300], status,
                                elapsed * 1000, user.name if user is not None else "-")
            request_id_var.reset(token)
