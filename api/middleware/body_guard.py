"""Request bodies, paths and queries the database could not store are refused before any route runs.

- A body over its limit answers 413, from Content-Length at once or while it streams in: uploads
  (multipart) may be `STUDIO_MAX_UPLOAD_BYTES` plus the form's own overhead, anything else
  `STUDIO_API_MAX_BODY_BYTES`.
- A NUL character (PostgreSQL text cannot hold one) or a lone surrogate (not encodable as UTF-8) in a
  JSON string or key, in the path or in a query value answers 422 naming where it was; so do NaN and
  Infinity (not JSON, but Python's parser takes them) and integers outside PostgreSQL's bigint.
Only a body that could hold one of those is parsed here (a byte scan decides), so plain bodies cost
one scan.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

from api.middleware.asgi import header, send_json, validation_body
from studio.settings import Settings

MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file itself
BIGINT_MIN, BIGINT_MAX = -2**63, 2**63 - 1
_SUSPECT = re.compile(rb"\\u|NaN|Infinity|\d{19}")
BAD_TEXT = "NUL characters and unpaired surrogates are not accepted"


class BodyTooLarge(Exception):
    pass


class _Constant(ValueError):
    pass


def _refuse_constant(name: str):
    raise _Constant(name)


def bad_text(value: str) -> bool:
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _printable(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("utf-8")[:100]


def _walk(value, loc: list) -> tuple[list, str] | None:
    if isinstance(value, str):
        return (loc, BAD_TEXT) if bad_text(value) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if BIGINT_MIN <= value <= BIGINT_MAX else (loc, "integer out of range")
    if isinstance(value, list):
        for index, item in enumerate(value):
            if found := _walk(item, [*loc, index]):
                return found
    elif isinstance(value, dict):
        for key, item in value.items():
            if bad_text(key):
                return [*loc, _printable(key)], BAD_TEXT
            if found := _walk(item, [*loc, key]):
                return found
    return None


def json_problem(body: bytes) -> tuple[list, str] | None:
    """Where a JSON body holds something no column can store, or None (malformed JSON is the route's)."""
    if not _SUSPECT.search(body):
        return None
    try:
        document = json.loads(body, parse_constant=_refuse_constant)
    except _Constant as exc:
        return ["body"], f"{exc} is not a JSON number"
    except ValueError:
        return None
    return _walk(document, ["body"])


def url_problem(scope: dict) -> tuple[list, str] | None:
    if "\x00" in scope.get("path", ""):
        return ["path"], BAD_TEXT
    query = scope.get("query_string", b"")
    # Percent-decoding replaces invalid UTF-8, so a query value cannot hold a surrogate: only NUL.
    if b"%00" in query:
        for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if bad_text(key) or bad_text(value):
                return ["query", _printable(key)], BAD_TEXT
    return None


class BodyGuard:
    def __init__(self, app, settings: Settings):
        self.app = app
        self.json_limit = settings.api_max_body_bytes
        self.upload_limit = settings.max_upload_bytes + MULTIPART_OVERHEAD

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if problem := url_problem(scope):
            return await send_json(send, 422, validation_body(*problem))
        content_type = (header(scope, b"content-type") or "").lower()
        limit = self.upload_limit if content_type.startswith("multipart/") else self.json_limit
        length = header(scope, b"content-length")
        if length is not None and (not length.strip().isdigit() or int(length) > limit):
            return await _too_large(send, limit)
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        if "json" in content_type or not content_type:
            body = await _read_all(receive, limit)
            if body is None:
                return await _too_large(send, limit)
            if problem := json_problem(body):
                return await send_json(send, 422, validation_body(*problem))
            return await self.app(scope, _replay(body, receive), send)
        return await self._streamed(scope, receive, send, limit)

    async def _streamed(self, scope, receive, send, limit: int):
        received = 0
        started = False

        async def counting_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def watching_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if not started:
                await _too_large(send, limit)


async def _too_large(send, limit: int) -> None:
    await send_json(send, 413, {"detail": f"request body over the {limit}-byte limit of this route"})


async def _read_all(receive, limit: int) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive):
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
