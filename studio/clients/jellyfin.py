"""The Jellyfin client: health, announcing published files, and a full library scan on request.

    GET  /System/Info/Public        -> 200 {ServerName, Version, Id, ...}; no auth needed
    POST /Library/Media/Updated     {"Updates": [{"Path": ..., "UpdateType": "Created"|"Modified"|"Deleted"}]}
                                    -> 204; Jellyfin acts on it after its LibraryMonitorDelay (60 s)
    POST /Library/Refresh           -> 204; a full scan, and a second call cancels a running one

Auth is `Authorization: MediaBrowser Token="..."` (the legacy X-Emby-Token header is off by default
from Jellyfin 12). `Path` must be the path as Jellyfin sees it; `PathMap` turns ours into its own
when it runs in a container. The token is kept out of repr and error messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Sequence

from studio.clients.http import http_client

if TYPE_CHECKING:
    import httpx  # imported where a call is made (studio/clients/http.py says why)


class JellyfinError(RuntimeError):
    """Jellyfin answered, but refused (bad token, bad request)."""


class JellyfinUnavailable(JellyfinError):
    """Jellyfin could not be reached."""


@dataclass(frozen=True)
class PathMap:
    """`ours=theirs`: a path under our prefix is the same file under Jellyfin's prefix."""

    ours: str = ""
    theirs: str = ""

    @classmethod
    def parse(cls, text: str) -> "PathMap":
        if not text.strip():
            return cls()
        ours, sep, theirs = text.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise ValueError("jellyfin_path_map: expected `<our prefix>=<Jellyfin's prefix>`")
        return cls(ours.strip().rstrip("/"), theirs.strip().rstrip("/"))

    def to_jellyfin(self, path: str) -> str:
        if not self.ours:
            return path
        relative = PurePosixPath(path).relative_to(self.ours) if PurePosixPath(path).is_relative_to(self.ours) \
            else None
        if relative is None:
            raise ValueError(f"{path} is not under the mapped prefix {self.ours}")
        return str(PurePosixPath(self.theirs) / relative)


@dataclass(frozen=True)
class MediaUpdate:
    path: str  # ours; mapped when sent
    update_type: str = "Created"


class JellyfinClient:
    def __init__(self, url: str, token: str | None, *, path_map: PathMap = PathMap(), timeout_s: float = 10.0):
        self.url = url.strip().rstrip("/")
        self._token = token
        self.path_map = path_map
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"JellyfinClient({self.url!r}, token={'set' if self._token else 'unset'})"

    @property
    def configured(self) -> bool:
        return bool(self.url)

    def _headers(self) -> dict[str, str]:
        if not self._token:
            return {}
        return {"Authorization": f'MediaBrowser Token="{self._token}"'}

    async def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        import httpx

        try:
            async with http_client(self.url, httpx.Timeout(self.timeout_s, connect=2.0)) as client:
                response = await client.request(method, path, headers=self._headers(), **kwargs)
        except httpx.HTTPError as error:
            raise JellyfinUnavailable(f"Jellyfin at {self.url} is unreachable: {type(error).__name__}") from None
        if response.status_code in (401, 403):
            raise JellyfinError(f"Jellyfin refused the token ({response.status_code} on {path})")
        if response.status_code >= 400:
            raise JellyfinError(f"Jellyfin answered {response.status_code} on {path}: {response.text[:200]}")
        return response

    async def public_info(self) -> dict:
        return (await self._request("GET", "/System/Info/Public")).json()

    async def announce(self, updates: Sequence[MediaUpdate]) -> list[dict]:
        """One POST for all updates; returns what was sent (paths as Jellyfin sees them)."""
        body = [{"Path": self.path_map.to_jellyfin(u.path), "UpdateType": u.update_type} for u in updates]
        if body:
            await self._request("POST", "/Library/Media/Updated", json={"Updates": body})
        return body

    async def refresh_library(self) -> None:
        await self._request("POST", "/Library/Refresh")
