"""How the ComfyUI client stays connected to each server: one HTTP client and one websocket per server.

ComfyUI sends a prompt's execution messages to the socket whose clientId the prompt carried, and
keeps nothing for late listeners (shared/fixtures/comfyui/README.md). So all prompts of a session
carry the same clientId, the socket is open before any of them is posted, and each message goes to
the PromptWatch of its prompt_id. A socket per job cost a handshake per image on both ends for nothing.
If the socket drops it is opened again with the same clientId while prompts wait; messages sent in
between are lost, which each job's slow poll of /queue and /history makes up for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from typing import Awaitable, Callable, Iterator

import httpx
import websockets

from studio.clients.comfyui_protocol import failure_of

# The message types PromptWatch.on_message acts on; everything else (status, progress_state,
# executed, execution_cached, previews' metadata) is dropped unread.
WATCHED_TYPES = frozenset({"execution_start", "execution_success", "execution_error", "execution_interrupted",
                           "executing", "progress"})
# How ComfyUI frames every message: json.dumps({"type": event, "data": data}), so the type comes first.
_TYPE_PREFIX = '{"type": "'

OpenSocket = Callable[[str, str], Awaitable["websockets.ClientConnection | None"]]


class PromptWatch:
    """What one submitted prompt has done so far, fed by the socket and the poll."""

    def __init__(self, prompt_id: str, workflow: dict, log: logging.Logger, log_every_s: float):
        self.prompt_id, self.workflow, self.log, self.log_every_s = prompt_id, workflow, log, log_every_s
        self.started, self.socket_says_finished = asyncio.Event(), asyncio.Event()
        self.outcome: asyncio.Future = asyncio.get_running_loop().create_future()
        self.timestamps: dict[str, dict] = {}
        self._last_progress_log = 0.0

    def finish(self, outcome) -> None:
        if not self.outcome.done():
            self.outcome.set_result(outcome)

    def on_message(self, message: dict) -> None:
        kind, data = message.get("type"), message.get("data") or {}
        if data.get("prompt_id") != self.prompt_id:
            return  # other prompts' messages, status broadcasts
        if kind == "execution_start":
            self.started.set()
            self.log.info("ComfyUI %s: running", self.prompt_id[:8])
        if kind in ("execution_start", "execution_success"):
            self.timestamps[kind] = data
        elif kind in ("execution_error", "execution_interrupted"):
            self.finish(failure_of(kind, data))  # complete without waiting for history
        elif kind == "executing" and data.get("node") is None:
            self.socket_says_finished.set()
        elif kind == "progress":
            now, value, maximum = time.monotonic(), data.get("value"), data.get("max")
            if value == maximum or now - self._last_progress_log >= self.log_every_s:
                self._last_progress_log = now
                node = self.workflow.get(str(data.get("node")), {}).get("class_type", data.get("node"))
                self.log.info("ComfyUI %s: %s %s/%s", self.prompt_id[:8], node, value, maximum)


class ServerLink:
    """One server as seen from one event loop: a kept-alive HTTP client and the shared socket."""

    def __init__(self, server: str, http: httpx.AsyncClient, open_socket: OpenSocket, retry_s: float):
        self.server, self.http, self._open_socket, self._retry_s = server, http, open_socket, retry_s
        self.client_id = uuid.uuid4().hex  # every prompt of this link carries it
        # When the server last answered anything: a server that answered and now refuses is taken to
        # be restarting, within a bound (ComfyUIClient.unreachable_timeout_s).
        self.last_answer: float | None = None
        # How often the socket dropped: a prompt missing after a drop was most likely lost in a restart.
        self.socket_drops = 0
        self._opened = time.monotonic()
        http.event_hooks["response"].append(self._answered)
        self.watches: dict[str, PromptWatch] = {}
        self._socket = None
        self._connecting: asyncio.Task | None = None
        self._reader: asyncio.Task | None = None
        self._retrying: asyncio.Task | None = None
        self._closed = False

    async def _answered(self, response: httpx.Response) -> None:
        self.last_answer = time.monotonic()

    def silent_for(self) -> float:
        """Seconds since the server last answered (since the link opened, if it never did)."""
        return time.monotonic() - (self.last_answer if self.last_answer is not None else self._opened)

    @contextlib.contextmanager
    def watching(self, watch: PromptWatch) -> Iterator[None]:
        """Route the prompt's messages to `watch`; register before POST /prompt, as events are not replayed."""
        self.watches[watch.prompt_id] = watch
        try:
            yield
        finally:
            self.watches.pop(watch.prompt_id, None)

    async def ensure_socket(self) -> None:
        """Open the socket unless it is open; returns either way (the poll alone still finds completion)."""
        if self._socket is not None or self._closed:
            return
        if self._connecting is None:
            self._connecting = asyncio.create_task(self._connect())
        # Shielded: one job being cancelled must not cancel the connect the others wait for.
        await asyncio.shield(self._connecting)
        if self._socket is None and self._retrying is None and self.watches:
            self._retrying = asyncio.create_task(self._retry())

    async def _retry(self) -> None:
        """Unreachable (restarting?) while prompts wait: try again every `retry_s`, as the poll does."""
        try:
            while self._socket is None and self.watches and not self._closed:
                await asyncio.sleep(self._retry_s)
                if self._connecting is None:
                    self._connecting = asyncio.create_task(self._connect())
                await asyncio.shield(self._connecting)
        finally:
            self._retrying = None

    async def _connect(self) -> None:
        try:
            socket = await self._open_socket(self.server, self.client_id)
        finally:
            self._connecting = None
        if socket is None:
            return
        if self._closed:
            await socket.close()
            return
        self._socket = socket
        self._reader = asyncio.create_task(self._read(socket))

    async def _read(self, socket) -> None:
        try:
            async for raw in socket:
                if isinstance(raw, str):  # binary frames are previews
                    self._dispatch(raw)
        except websockets.ConnectionClosed:
            pass
        finally:
            if self._socket is socket:
                self._socket = None
                self.socket_drops += 0 if self._closed else 1
            await socket.close()
        # Dropped while prompts wait: reopen at once with the same clientId, as ComfyUI routes by it.
        # Messages sent meanwhile are gone; the jobs' polls find those completions.
        if self.watches:
            await self.ensure_socket()

    def _dispatch(self, raw: str) -> None:
        # Over half of a job's ~70 messages are progress_state, each carrying every node's state:
        # decoding JSON only to drop it cost ~0.4 ms of CPU per image. A frame in another shape is
        # decoded as before.
        if raw.startswith(_TYPE_PREFIX):
            kind = raw[len(_TYPE_PREFIX):raw.find('"', len(_TYPE_PREFIX))]
            if "\\" not in kind and kind not in WATCHED_TYPES:
                return
        try:
            message = json.loads(raw)
        except ValueError:
            return  # an extension's odd frame must not stop the socket serving every prompt
        data = message.get("data") if isinstance(message, dict) else None
        watch = self.watches.get(data.get("prompt_id")) if isinstance(data, dict) else None
        if watch is not None:
            watch.on_message(message)

    async def aclose(self) -> None:
        self._closed = True
        tasks = [t for t in (self._connecting, self._reader, self._retrying) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._socket is not None:
            await self._socket.close()
            self._socket = None
        await self.http.aclose()


class ServerLinks:
    """The links of one session, one per server, made when first used."""

    def __init__(self, make: Callable[[str], ServerLink]):
        self._make = make
        self._links: dict[str, ServerLink] = {}

    def __call__(self, server: str) -> ServerLink:
        if server not in self._links:
            self._links[server] = self._make(server)
        return self._links[server]

    async def aclose(self) -> None:
        links, self._links = list(self._links.values()), {}
        await asyncio.gather(*(link.aclose() for link in links), return_exceptions=True)
