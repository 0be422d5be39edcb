"""The lean HTTP/1.1 transport under httpx: framing, keep-alive, and httpcore's errors, against raw servers."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest

from studio.clients.http import http_client


class RawServer:
    """A TCP server answering each request with `answer(head, body)` bytes (None: say nothing)."""

    def __init__(self, answer, close_after_answer: bool = False):
        self.answer, self.close_after_answer = answer, close_after_answer
        self.connections = 0
        self.requests: list[tuple[bytes, bytes]] = []

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc) -> None:
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                body = await reader.readexactly(length)
                self.requests.append((head, body))
                reply = self.answer(head, body)
                if reply is None:
                    await asyncio.sleep(3600)
                writer.write(reply)
                await writer.drain()
                if self.close_after_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def ok(body: bytes = b'{"ok": true}', extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (
        len(body), extra, body)


async def test_kept_alive_requests_share_one_connection_and_bodies_arrive_whole():
    server = RawServer(lambda head, body: ok(body or b"{}"))
    async with server as url, http_client(url, 5.0) as client:
        sent = {"prompt": {"1": {"inputs": {"text": "x" * 100_000}}}}
        assert (await client.post("/prompt", json=sent)).json() == sent
        assert (await client.get("/history/abc", params={"a": "b c"})).json() == {}
        assert server.connections == 1
        assert server.requests[1][0].startswith(b"GET /history/abc?a=b+c HTTP/1.1\r\n")
        assert b"\r\nHost: 127.0.0.1:" in server.requests[1][0]


async def test_chunked_answers_and_reason_phrases():
    chunked = (b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\n{\"err\r\n8;x=y\r\nor\": \"no\r\n2\r\n\"}\r\n0\r\nTrailer: 1\r\n\r\n")
    async with RawServer(lambda head, body: chunked) as url, http_client(url, 5.0) as client:
        response = await client.get("/")
        assert response.status_code == 404 and response.reason_phrase == "Not Found"
        assert response.json() == {"error": "no"}
        assert (await client.get("/")).json() == {"error": "no"}


async def test_a_connection_the_server_closed_is_not_reused():
    server = RawServer(lambda head, body: ok(), close_after_answer=True)
    async with server as url, http_client(url, 5.0) as client:
        for _ in range(3):
            assert (await client.get("/")).json() == {"ok": True}
            await asyncio.sleep(0.05)  # the server's close arrives
        assert server.connections == 3


async def test_connection_close_is_honoured():
    server = RawServer(lambda head, body: ok(extra=b"Connection: close\r\n"))
    async with server as url, http_client(url, 5.0) as client:
        await client.get("/")
        await client.get("/")
        assert server.connections == 2 and client._transport.idle_connections == []


async def test_a_closed_port_is_a_connect_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with http_client(f"http://127.0.0.1:{port}", 5.0) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("/")


async def test_silence_is_a_read_timeout_and_a_hang_up_a_remote_protocol_error():
    async with RawServer(lambda head, body: None) as url, http_client(url, httpx.Timeout(0.2)) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/")
    hang_up = RawServer(lambda head, body: b"", close_after_answer=True)
    async with hang_up as url, http_client(url, 5.0) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/")


async def test_a_request_cut_short_leaves_its_connection_out_of_the_pool():
    server = RawServer(lambda head, body: None if b"/slow" in head else ok())
    async with server as url, http_client(url, 5.0) as client:
        slow = asyncio.create_task(client.get("/slow"))
        await asyncio.sleep(0.1)
        slow.cancel()
        await asyncio.gather(slow, return_exceptions=True)
        assert json.loads((await client.get("/")).content) == {"ok": True}
        assert server.connections == 2
