"""A Jellyfin test double over real HTTP on 127.0.0.1, with Jellyfin's inconvenient parts.

    with JellyfinDouble(token="k") as jf:
        JellyfinClient(jf.url, "k") ...

- `GET /System/Info/Public` answers without auth, with the fields a real 10.x server sends.
- Every other route needs `Authorization: MediaBrowser Token="<token>"`; anything else (a missing or
  wrong token, or the legacy `X-Emby-Token`, off by default in Jellyfin 12) gets 401 with an empty body.
- `POST /Library/Media/Updated` answers 204 and records the updates; a body without `Updates` is 400.
- `POST /Library/Refresh` answers 204; one arriving while a scan "runs" cancels it (as Jellyfin does),
  which is counted in `cancelled_scans`.
Records: `announcements` (list of Updates lists), `auth_headers` (every Authorization header seen),
`refreshes`. Controls: `healthy` (False: 503 everywhere), `scan_seconds`.
"""

from __future__ import annotations

import time

from aiohttp import web

from tests.doubles.server_thread import HttpDouble

PUBLIC_INFO = {"LocalAddress": "http://127.0.0.1:8096", "ServerName": "studio-jellyfin", "Version": "10.10.7",
               "ProductName": "Jellyfin Server", "OperatingSystem": "", "Id": "0d4c0c5e0a6f4a1e9f8d2b7c3e1a5f90",
               "StartupWizardCompleted": True}


class JellyfinDouble(HttpDouble):
    def __init__(self, token: str = "test-token") -> None:
        super().__init__()
        self.token = token
        self.healthy = True
        self.scan_seconds = 5.0
        self.announcements: list[list[dict]] = []
        self.auth_headers: list[str | None] = []
        self.refreshes = 0
        self.cancelled_scans = 0
        self._scan_until = 0.0

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._gate])
        app.router.add_get("/System/Info/Public", self._public_info)
        app.router.add_post("/Library/Media/Updated", self._media_updated)
        app.router.add_post("/Library/Refresh", self._refresh)
        return app

    @web.middleware
    async def _gate(self, request: web.Request, handler):
        if not self.healthy:
            return web.Response(status=503)
        if request.path != "/System/Info/Public":
            header = request.headers.get("Authorization")
            self.auth_headers.append(header)
            if header != f'MediaBrowser Token="{self.token}"':
                return web.Response(status=401)
        return await handler(request)

    async def _public_info(self, request: web.Request) -> web.Response:
        return web.json_response(PUBLIC_INFO)

    async def _media_updated(self, request: web.Request) -> web.Response:
        body = await request.json()
        updates = body.get("Updates") if isinstance(body, dict) else None
        if not isinstance(updates, list) or not all(isinstance(u, dict) and "Path" in u for u in updates):
            return web.json_response({"errors": {"Updates": ["The Updates field is required."]}}, status=400)
        self.announcements.append(updates)
        return web.Response(status=204)

    async def _refresh(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        if now < self._scan_until:
            self.cancelled_scans += 1
        self.refreshes += 1
        self._scan_until = now + self.scan_seconds
        return web.Response(status=204)
