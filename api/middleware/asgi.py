"""Small helpers for pure ASGI middleware: headers of a scope, a JSON answer sent directly."""

from __future__ import annotations

import json
from typing import Any


def header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


async def send_json(send, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(body, ensure_ascii=True).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


def validation_body(loc: list, msg: str, kind: str = "value_error") -> dict:
    """The one 422 shape (FastAPI's): {"detail": [{"type", "loc", "msg"}]}."""
    return {"detail": [{"type": kind, "loc": loc, "msg": msg}]}
