"""DNS rebinding and cross-site requests: the Host allow-list and the same-origin rule for writes.

- Host: a request names the host it was meant for; only the configured names
  (`STUDIO_API_ALLOWED_HOSTS`) are answered, by default the address the client connected to and
  localhost. A rebinding page's requests carry its own domain and are refused (400).
- Writes (any method but GET, HEAD, OPTIONS) without a bearer token are accepted only from the
  service's own origin: a browser sends Sec-Fetch-Site and Origin with every cross-site form post or
  no-cors fetch, and a page of another origin cannot set either. A request with neither header comes
  from something that is not a browser (curl, scripts), which no other site can make send it. A
  bearer token is never sent by a browser on its own, so a request carrying one is not forgeable.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from api.middleware.asgi import header, send_json
from studio.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_SITE_FETCH = frozenset({"same-origin", "none"})  # "none": typed in the address bar, a bookmark
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def host_name(host: str) -> str:
    """'Example.org:8000' -> 'example.org', '[::1]:8000' -> '::1'."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rpartition(":")[0] if host.count(":") == 1 else host


class OriginGuard:
    def __init__(self, app, settings: Settings):
        self.app = app
        self.allowed = frozenset(settings.api_allowed_hosts)

    def host_allowed(self, scope: dict, host: str | None) -> bool:
        if host is None:
            return False
        name = host_name(host)
        if self.allowed:
            return "*" in self.allowed or name in self.allowed
        server = scope.get("server")
        return name in LOCAL_NAMES or (server is not None and name == str(server[0]).lower())

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        host = header(scope, b"host")
        if not self.host_allowed(scope, host):
            return await send_json(send, 400, {"detail": "this service does not answer to that Host name"})
        if scope["method"] not in SAFE_METHODS and (refusal := self.cross_site(scope, host)):
            return await send_json(send, 403, {"detail": refusal})
        return await self.app(scope, receive, send)

    def cross_site(self, scope: dict, host: str) -> str | None:
        if (header(scope, b"authorization") or "").lower().startswith("bearer "):
            return None
        fetch_site = header(scope, b"sec-fetch-site")
        if fetch_site is not None and fetch_site.lower() not in SAME_SITE_FETCH:
            return f"cross-site request refused (Sec-Fetch-Site: {fetch_site[:20]}); send a bearer token"
        origin = header(scope, b"origin")
        if origin is not None:
            netloc = urlsplit(origin).netloc.lower() if origin != "null" else ""
            if netloc != host.strip().lower() and host_name(netloc) not in self.allowed:
                return "request from another origin refused; send a bearer token"
        return None
