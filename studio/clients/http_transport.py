"""A lean HTTP/1.1 transport for httpx on plain asyncio, for the kept-alive clients of a batch.

httpx's default transport (httpcore on anyio) spent ~0.85 ms of CPU per request on loopback, where
the request itself costs under 0.1 ms: cancel scopes, locks, sniffio look-ups and h11's event machine
on every read and write. A dataset image makes four requests (POST /prompt, /history, /view, Ollama
chat), so that was ~3.5 ms of the pipeline's own CPU per image. This transport keeps httpx's API for
the callers (requests, responses, its exception types and timeouts) and does the wire work itself:
a connection is an asyncio Protocol, responses are framed by Content-Length or chunked encoding.

What it keeps from httpcore's behaviour: idle connections are reused for 5 s at most (httpx's
`keepalive_expiry`) and never when the server closed them or sent something unasked meanwhile; at
most 100 connections per transport (PoolTimeout when none frees in time); a refused or failed connect
is ConnectError/ConnectTimeout, a connection lost before any answer is RemoteProtocolError. A
connection whose request failed or was cancelled half-way is closed, never reused. https goes to
httpx's own transport, unchanged. Bodies are read whole (nothing here streams responses).
"""

from __future__ import annotations

import asyncio
import time

import httpx

KEEPALIVE_EXPIRY_S = 5.0  # httpx's default Limits
MAX_CONNECTIONS = 100
_NO_BODY_STATUS = (204, 304)


class _Connection(asyncio.Protocol):
    """One TCP connection: bytes in a buffer, and a future to wake the one request reading them."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.closed = False
        self.error: Exception | None = None
        self.idle_since = 0.0
        self._waiter: asyncio.Future | None = None
        self._can_write: asyncio.Future | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False  # close our side too

    def connection_lost(self, exc) -> None:
        self.closed, self.error = True, exc
        self._wake()
        if self._can_write is not None and not self._can_write.done():
            self._can_write.set_result(None)

    def pause_writing(self) -> None:
        self._can_write = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._can_write is not None and not self._can_write.done():
            self._can_write.set_result(None)
        self._can_write = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def reusable(self, now: float) -> bool:
        # Unasked bytes on an idle connection (a 408 before closing, say) would be read as our answer.
        return not self.closed and not self.buffer and now - self.idle_since < KEEPALIVE_EXPIRY_S

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def drain(self, timeout: float | None) -> None:
        # A connection closed while writing is not an error yet: a server may refuse a request early
        # (413, say) and close; its answer is read as any other (httpcore does the same).
        if self._can_write is not None and not self.closed:
            try:
                await asyncio.wait_for(asyncio.shield(self._can_write), timeout)
            except asyncio.TimeoutError:
                raise httpx.WriteTimeout("timed out writing the request") from None

    async def more(self, timeout: float | None, got_any: bool) -> None:
        """Wait for more bytes; the errors httpcore raises when none come."""
        if self.closed:
            if got_any or self.error is not None:
                raise httpx.ReadError(str(self.error or "connection closed mid-response"))
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        # A timer on the future, not wait_for: that wraps every read in more futures and callbacks.
        timer = None if timeout is None else loop.call_later(timeout, _time_out, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    async def read_until(self, marker: bytes, start: int, timeout: float | None, got_any: bool) -> int:
        """Index just past `marker` in the buffer (searched from `start`)."""
        while True:
            found = self.buffer.find(marker, start)
            if found >= 0:
                return found + len(marker)
            start = max(start, len(self.buffer) - len(marker) + 1)
            await self.more(timeout, got_any or bool(self.buffer))

    async def read_exactly(self, count: int, timeout: float | None) -> bytes:
        while len(self.buffer) < count:
            await self.more(timeout, True)
        if len(self.buffer) == count:  # the usual case: the body ends the buffer; one copy, not two
            data = bytes(self.buffer)
            self.buffer.clear()
            return data
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    async def read_line(self, timeout: float | None) -> bytes:
        end = await self.read_until(b"\r\n", 0, timeout, True)
        line = bytes(self.buffer[:end - 2])
        del self.buffer[:end]
        return line


def _time_out(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_exception(httpx.ReadTimeout("timed out reading the response"))


def _head(request: httpx.Request, body: bytes, chunked: bool) -> bytes:
    lines = [b"%s %s HTTP/1.1" % (request.method.encode("ascii"), request.url.raw_path)]
    lines += [b"%s: %s" % pair for pair in request.headers.raw]
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    if chunked:  # httpx announced it for a body of unknown length; it is all here now: one chunk
        return head + (b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n")
    return head + body


async def _response(conn: _Connection, method: str, read_s: float | None) -> tuple[httpx.Response, bool]:
    """(response, connection reusable)."""
    while True:
        end = await conn.read_until(b"\r\n\r\n", 0, read_s, False)
        head = bytes(conn.buffer[:end - 4])
        del conn.buffer[:end]
        status_line, *header_lines = head.split(b"\r\n")
        try:
            version, status, *reason = status_line.split(b" ", 2)
            status_code = int(status)
            headers = [(name.strip(), value.strip()) for name, _, value in
                       (line.partition(b":") for line in header_lines)]
        except ValueError:
            raise httpx.RemoteProtocolError(f"malformed status line {status_line[:100]!r}") from None
        if not 100 <= status_code < 200 or status_code == 101:
            break  # interim answers (100 Continue) come before the real one
    fields = {name.lower(): value for name, value in headers}
    keep_alive = version == b"HTTP/1.1" and b"close" not in fields.get(b"connection", b"").lower()
    if method == "HEAD" or status_code in _NO_BODY_STATUS or 100 <= status_code < 200:
        body = b""
    elif b"chunked" in fields.get(b"transfer-encoding", b"").lower():
        parts = []
        while True:
            size = int((await conn.read_line(read_s)).split(b";", 1)[0], 16)
            if size == 0:
                while await conn.read_line(read_s):
                    pass  # trailers, up to the empty line
                break
            parts.append(await conn.read_exactly(size, read_s))
            await conn.read_exactly(2, read_s)
        body = b"".join(parts)
    elif b"content-length" in fields:
        body = await conn.read_exactly(int(fields[b"content-length"]), read_s)
    else:  # delimited by the server closing the connection
        while not conn.closed:
            await conn.more(read_s, True)
        body, keep_alive = bytes(conn.buffer), False
        conn.buffer.clear()
    extensions = {"http_version": version, "reason_phrase": reason[0] if reason else b""}
    return httpx.Response(status_code, headers=headers, stream=httpx.ByteStream(body),
                          extensions=extensions), keep_alive


class LeanTransport(httpx.AsyncBaseTransport):
    def __init__(self, https: httpx.AsyncBaseTransport):
        self._https = https  # TLS stays with httpx's own transport
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self._slots = asyncio.Semaphore(MAX_CONNECTIONS)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "http":
            return await self._https.handle_async_request(request)
        timeouts = request.extensions.get("timeout", {})
        body = await request.aread()
        chunked = "chunked" in request.headers.get("transfer-encoding", "")
        if self._slots.locked():  # wait_for only when waiting: it wraps the acquire in a task
            try:
                await asyncio.wait_for(self._slots.acquire(), timeouts.get("pool"))
            except asyncio.TimeoutError:
                raise httpx.PoolTimeout("no connection became free in time") from None
        else:
            await self._slots.acquire()
        key = (url.host, url.port or 80)
        conn = None
        try:
            conn = self._reuse(key) or await self._connect(key, timeouts.get("connect"))
            conn.transport.write(_head(request, body, chunked))
            await conn.drain(timeouts.get("write"))
            response, keep_alive = await _response(conn, request.method, timeouts.get("read"))
        except BaseException:
            if conn is not None:
                conn.close()  # half a request or half an answer: never reuse it
            self._slots.release()
            raise
        if keep_alive and not conn.closed:
            conn.idle_since = time.monotonic()
            self._idle.setdefault(key, []).append(conn)
        else:
            conn.close()
        self._slots.release()
        return response

    @property
    def idle_connections(self) -> list[_Connection]:
        """Kept-alive connections waiting for a request (tests check that calls share one)."""
        return [conn for conns in self._idle.values() for conn in conns if not conn.closed]

    def _reuse(self, key: tuple[str, int]) -> _Connection | None:
        idle, now = self._idle.get(key), time.monotonic()
        while idle:
            conn = idle.pop()
            if conn.reusable(now):
                return conn
            conn.close()
        return None

    @staticmethod
    async def _connect(key: tuple[str, int], timeout: float | None) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, conn = await asyncio.wait_for(loop.create_connection(_Connection, *key), timeout)
        except asyncio.TimeoutError:
            raise httpx.ConnectTimeout(f"connecting to {key[0]}:{key[1]} timed out") from None
        except OSError as error:
            raise httpx.ConnectError(str(error) or type(error).__name__) from None
        return conn

    async def aclose(self) -> None:
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()
        await self._https.aclose()
