"""The ComfyUI client: one job in, files and GPU seconds out.

It follows what the real server does (shared/fixtures/comfyui/README.md): the websocket is opened
before POST /prompt (no replay), completion is `executing` with `node: null`, and a slow poll of
/queue and /history runs beside the socket so a dropped socket costs latency, not the job. A prompt
in neither queue nor history is lost (server restarted) and is submitted again, a bounded number of
times. A server that answered earlier in the session and then stops answering is waited for (it may be
restarting) for at most `unreachable_timeout_s`; then its jobs fail as "not reachable". 400s are workflow bugs and never retried; an out-of-memory failure is retried once after /free.

Inside `async with comfyui.session():` all calls share one HTTP client and one websocket per server
(comfyui_connection.py); a call outside a session opens its own and closes them when it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import AsyncIterator, Union

import httpx
import websockets

from studio.clients.comfyui_connection import PromptWatch, ServerLink, ServerLinks
from studio.clients.comfyui_protocol import (
    ComfyError, ComfyExecutionError, ComfyOutput, ComfyRun, ComfyTimeoutError, ComfyUnavailableError,
    ComfyUnreachableError, failure_in_history,
    gpu_seconds_between, outputs_of, parse_validation_error, status_messages,
)
from studio.clients.http import LoopSessions, http_client

_log = logging.getLogger(__name__)
LOST = object()  # the prompt vanished from the server: submit it again


class ComfyUIClient:
    """Jobs go to the least busy of `urls` (one ComfyUI per GPU). Timeouts are in seconds."""

    def __init__(self, urls: list[str] | tuple[str, ...] = ("http://127.0.0.1:8188",), *,
                 connect_timeout_s: float = 5.0,
                 request_timeout_s: float = 120.0,  # one HTTP request, uploads and downloads included
                 queue_timeout_s: float = 3600.0,  # waiting behind other jobs before ours starts
                 run_timeout_s: float = 1800.0,  # one job's execution, once started
                 history_timeout_s: float = 10.0,  # how long /history may trail completion
                 poll_interval_s: float = 5.0,  # slow poll of /queue and /history beside the socket
                 max_resubmits: int = 3, progress_log_interval_s: float = 10.0,
                 unreachable_timeout_s: float = 120.0):  # a restart with custom nodes takes ~20-60 s
        if not urls:
            raise ValueError("ComfyUI client needs at least one server URL")
        self.urls = [u.rstrip("/") for u in urls]
        self.connect_timeout_s, self.request_timeout_s = connect_timeout_s, request_timeout_s
        self.queue_timeout_s, self.run_timeout_s = queue_timeout_s, run_timeout_s
        self.history_timeout_s, self.poll_interval_s = history_timeout_s, poll_interval_s
        self.max_resubmits, self.progress_log_interval_s = max_resubmits, progress_log_interval_s
        self.unreachable_timeout_s = unreachable_timeout_s
        # server -> {reservation: prompt_id or None}: our jobs that the server's queue may not show yet.
        self._in_flight: dict[str, dict[str, str | None]] = {}
        self._sessions: LoopSessions = LoopSessions()
        # server -> its object_info: the node set of a running server does not change under us.
        self._object_info: dict[str, dict] = {}

    # --- connections -----------------------------------------------------------------------------
    def session(self) -> contextlib.AbstractAsyncContextManager[ServerLinks]:
        """Share connections between the calls made in this event loop until the block ends (a batch)."""
        return self._sessions.session(lambda: ServerLinks(self._link))

    def _link(self, server: str) -> ServerLink:
        http = http_client(server, httpx.Timeout(self.request_timeout_s, connect=self.connect_timeout_s))
        return ServerLink(server, http, self._open_socket, retry_s=self.poll_interval_s)

    @contextlib.asynccontextmanager
    async def _http(self, server: str) -> AsyncIterator[httpx.AsyncClient]:
        async with self.session() as links:
            yield links(server).http

    # --- choosing a server ---------------------------------------------------------------------
    async def _queued_ids(self, links: ServerLinks, server: str) -> set[str] | None:
        try:
            queue = (await links(server).http.get("/queue", timeout=self.connect_timeout_s)).raise_for_status().json()
            return {item[1] for item in queue["queue_running"] + queue["queue_pending"]}
        except (httpx.HTTPError, ValueError, KeyError, IndexError):
            return None

    async def _reserve_server(self, links: ServerLinks) -> tuple[str, str]:
        queued = [set()] if len(self.urls) == 1 else await asyncio.gather(
            *(self._queued_ids(links, url) for url in self.urls))

        def load(index: int) -> float:
            if queued[index] is None:
                return float("inf")  # unreachable: last choice, still tried when all are down
            ours = self._in_flight.get(self.urls[index], {}).values()
            return len(queued[index]) + sum(1 for prompt_id in ours if prompt_id not in queued[index])

        # No await between measuring and reserving, so concurrent runs in this loop see each other.
        server = self.urls[min(range(len(self.urls)), key=load)]
        reservation = uuid.uuid4().hex
        self._in_flight.setdefault(server, {})[reservation] = None
        return server, reservation

    # --- running a workflow ----------------------------------------------------------------------
    async def run(self, workflow: dict, *, images: dict[str, bytes] | None = None,
                  log: logging.Logger | None = None) -> ComfyRun:
        async with self.session() as links:
            return await self._run(links, workflow, images or {}, log or _log)

    async def _run(self, links: ServerLinks, workflow: dict, images: dict[str, bytes],
                   log: logging.Logger) -> ComfyRun:
        attempts = resubmits = 0
        oom_retried = False
        while True:
            attempts += 1
            server, reservation = await self._reserve_server(links)
            try:
                result = await self._attempt(links(server), reservation, workflow, images, log)
            except httpx.ConnectError as error:
                # Refused before anything was accepted. A server that was never there is "not
                # reachable" at once; one that answered before may be restarting: wait for it, bounded.
                if links(server).last_answer is None:
                    raise ComfyUnreachableError(server, str(error) or type(error).__name__) from None
                await self._wait_until_back(links(server), log)
                result = LOST
            except ComfyExecutionError as error:
                if not error.out_of_memory or oom_retried:
                    raise
                oom_retried = True
                log.warning("ComfyUI on %s ran out of memory in %s; freeing memory and retrying once",
                            server, error.node_type)
                await self._free(links(server).http)
                continue
            finally:
                self._in_flight[server].pop(reservation, None)
            if result is LOST:
                resubmits += 1
                if resubmits > self.max_resubmits:
                    raise ComfyUnavailableError(
                        f"ComfyUI on {server} lost or never received the prompt {resubmits} times (down or restarting?)")
                # No pause: the server has just answered (or was waited for), so it is up again.
                log.warning("ComfyUI on %s lost or refused the prompt (restarted?); submitting it again", server)
                continue
            result.attempts = attempts
            return result

    async def _attempt(self, link: ServerLink, reservation: str, workflow: dict, images: dict[str, bytes],
                       log: logging.Logger) -> Union[ComfyRun, object]:
        server, http = link.server, link.http
        for name, data in images.items():
            await self._upload(http, data, name)
        watch = PromptWatch(str(uuid.uuid4()), workflow, log, self.progress_log_interval_s)
        with link.watching(watch):
            await link.ensure_socket()  # before POST: events are not replayed
            body = {"prompt": workflow, "client_id": link.client_id, "prompt_id": watch.prompt_id}
            try:
                response = await http.post("/prompt", json=body)
            except httpx.ConnectError:
                raise  # never reached the server: _run decides between "not reachable" and "restarting"
            except httpx.TransportError:
                response = None  # maybe accepted before the connection broke: the poll will tell
            if response is not None and response.status_code == 400:
                raise parse_validation_error(response.json())
            if response is not None and response.status_code != 200:
                raise ComfyError(f"ComfyUI on {server} answered POST /prompt with {response.status_code}")
            self._in_flight[server][reservation] = watch.prompt_id
            poll = asyncio.create_task(self._poll(link, watch))
            try:
                return await self._outcome(http, server, watch)
            finally:
                poll.cancel()
                await asyncio.gather(poll, return_exceptions=True)

    async def _outcome(self, http: httpx.AsyncClient, server: str, watch: PromptWatch):
        try:
            if not await _first_of(watch.started.wait(), watch.outcome, timeout=self.queue_timeout_s):
                await _quietly(http.post("/queue", json={"delete": [watch.prompt_id]}))
                raise ComfyTimeoutError("queue wait", self.queue_timeout_s, server)
            if not await _first_of(watch.outcome, timeout=self.run_timeout_s):
                await _quietly(http.post("/interrupt", json={"prompt_id": watch.prompt_id}))
                raise ComfyTimeoutError("run", self.run_timeout_s, server)
        except asyncio.CancelledError:
            # The Dagster run was stopped: do not leave the GPU working for nobody.
            await asyncio.shield(asyncio.wait_for(_quietly(
                http.post("/queue", json={"delete": [watch.prompt_id]}),
                http.post("/interrupt", json={"prompt_id": watch.prompt_id})), self.connect_timeout_s))
            raise
        outcome = watch.outcome.result()
        if outcome is LOST:
            return LOST
        if isinstance(outcome, ComfyError):
            raise outcome
        failure = failure_in_history(outcome)
        if failure:
            raise failure
        messages = status_messages(outcome)
        seconds = gpu_seconds_between(watch.timestamps.get("execution_start"),
                                      watch.timestamps.get("execution_success"))
        if seconds is None:
            seconds = gpu_seconds_between(messages.get("execution_start"), messages.get("execution_success"))
        return ComfyRun(watch.prompt_id, server, outputs_of(outcome), seconds or 0.0,
                        cached_nodes=list(messages.get("execution_cached", {}).get("nodes", [])))

    async def _open_socket(self, server: str, client_id: str):
        url = server.replace("http", "ws", 1).rstrip("/") + f"/ws?clientId={client_id}"
        try:
            # proxy=None: a proxy from the environment must not sit between us and a LAN GPU box.
            # compression=None: messages are small JSON on a LAN; deflating ~75 of them per image
            # cost CPU on both ends and saved nothing worth having.
            return await websockets.connect(url, max_size=None, open_timeout=self.connect_timeout_s,
                                            close_timeout=1, proxy=None, compression=None)
        except (OSError, asyncio.TimeoutError, websockets.WebSocketException):
            return None  # the poll alone still finds completion

    async def _poll(self, link: ServerLink, watch: PromptWatch) -> None:
        """The slow path: also the only way to notice that the server forgot the prompt, or went away."""
        http, prompt_id = link.http, watch.prompt_id
        drops, went_away = link.socket_drops, False
        while True:
            socket_finished = await _first_of(watch.socket_says_finished.wait(), timeout=self.poll_interval_s)
            try:
                if not socket_finished:
                    queue = (await http.get("/queue")).raise_for_status().json()
                    if prompt_id in {item[1] for item in queue["queue_running"]}:
                        watch.started.set()
                        continue
                    if prompt_id in {item[1] for item in queue["queue_pending"]}:
                        continue
                # History may trail completion by a moment (race_probe.json); but a prompt not reported
                # finished and in neither queue nor history after the server went away is simply lost.
                restarted = not socket_finished and (went_away or link.socket_drops > drops)
                entry = await self._history(http, prompt_id, wait_s=0.0 if restarted else self.history_timeout_s)
            except (httpx.HTTPError, ValueError, KeyError, IndexError) as error:
                went_away = went_away or isinstance(error, httpx.TransportError)
                # Unreachable for now (restarting?): keep looking, until it has been away too long.
                silent = link.silent_for()
                if silent >= self.unreachable_timeout_s:
                    watch.finish(ComfyUnreachableError(link.server, f"no answer for {silent:.0f} s"))
                    return
                await asyncio.sleep(min(self.poll_interval_s, self.unreachable_timeout_s - silent))
                continue
            watch.finish(entry if entry is not None else LOST)
            return

    async def _wait_until_back(self, link: ServerLink, log: logging.Logger) -> None:
        """Until the server answers again; ComfyUnreachableError once it has been silent too long."""
        log.warning("ComfyUI on %s does not answer (restarting?); waiting up to %g s for it",
                    link.server, self.unreachable_timeout_s)
        while True:
            silent = link.silent_for()
            if silent >= self.unreachable_timeout_s:
                raise ComfyUnreachableError(link.server, f"no answer for {silent:.0f} s")
            await asyncio.sleep(min(self.poll_interval_s, self.unreachable_timeout_s - silent))
            try:
                await link.http.get("/queue", timeout=self.connect_timeout_s)
                return
            except httpx.HTTPError:
                continue

    async def _history(self, http: httpx.AsyncClient, prompt_id: str, wait_s: float) -> dict | None:
        """History can still be {} right after completion (race_probe.json): retry for up to `wait_s`."""
        deadline, delay = time.monotonic() + wait_s, 0.05
        while True:
            entry = (await http.get(f"/history/{prompt_id}")).raise_for_status().json().get(prompt_id)
            if entry or time.monotonic() >= deadline:
                return entry or None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    # --- files and server state ------------------------------------------------------------------
    async def _upload(self, http: httpx.AsyncClient, data: bytes, name: str) -> str:
        subfolder, _, filename = name.rpartition("/")
        response = await http.post("/upload/image", files={"image": (filename, data, "application/octet-stream")},
                                   data={"overwrite": "true", "type": "input", "subfolder": subfolder})
        if response.status_code != 200:
            raise ComfyError(f"upload of {name!r} refused with {response.status_code}")
        stored = response.json()
        stored_name = f"{stored['subfolder']}/{stored['name']}" if stored.get("subfolder") else stored["name"]
        if stored_name != name:  # the workflow refers to `name`; a renamed file would be the wrong image
            raise ComfyError(f"ComfyUI stored {name!r} as {stored_name!r}")
        return stored_name

    async def upload_image(self, data: bytes, name: str, server_url: str | None = None) -> str:
        """Upload to input/ under `name` ("sub/x.png" allowed), overwriting; returns the name to use."""
        async with self._http(server_url or self.urls[0]) as http:
            return await self._upload(http, data, name)

    async def download(self, run_or_server_url: Union[ComfyRun, str], output: ComfyOutput) -> bytes:
        server = run_or_server_url.server_url if isinstance(run_or_server_url, ComfyRun) else run_or_server_url
        params = {"filename": output.filename, "subfolder": output.subfolder, "type": output.type}
        async with self.session() as links:
            link = links(server)
            while True:
                try:
                    response = await link.http.get("/view", params=params)
                    break
                except httpx.ConnectError as error:
                    # Output files outlive a restart (after_restart_history.txt): wait for the server.
                    if link.last_answer is None:
                        raise ComfyUnreachableError(server, str(error) or type(error).__name__) from None
                    await self._wait_until_back(link, _log)
        if response.status_code != 200:
            raise ComfyError(f"GET /view {output.subfolder}/{output.filename} on {server}: {response.status_code}")
        return response.content

    async def free(self, server_url: str) -> None:
        async with self._http(server_url) as http:
            await self._free(http)

    @staticmethod
    async def _free(http: httpx.AsyncClient) -> None:
        (await http.post("/free", json={"unload_models": True, "free_memory": True})).raise_for_status()

    async def system_stats(self) -> dict[str, dict]:
        """Per server: /system_stats (devices[].vram_free ...), or {"error": ...} if unreachable."""
        async def one(url: str) -> dict:
            async with self._http(url) as http:
                return (await http.get("/system_stats", timeout=self.connect_timeout_s)).raise_for_status().json()

        results = await asyncio.gather(*map(one, self.urls), return_exceptions=True)
        return {url: (r if isinstance(r, dict) else {"error": repr(r)}) for url, r in zip(self.urls, results)}

    async def object_info(self, server_url: str | None = None, *, fresh: bool = False) -> dict:
        """Every node type the server has, with its inputs (model loaders list the installed files).

        Kept per server for this client's life (a run): it is ~1 MB and only a restart of ComfyUI
        changes it. `fresh` asks again, for a check made after something was installed."""
        server = (server_url or self.urls[0]).rstrip("/")
        if fresh or server not in self._object_info:
            async with self._http(server) as http:
                self._object_info[server] = (await http.get("/object_info")).raise_for_status().json()
        return self._object_info[server]

    async def models(self, folder: str, server_url: str | None = None) -> list[str]:
        """Installed files (GET /models/{folder}): preflight for what validation does not check (run13)."""
        async with self._http(server_url or self.urls[0]) as http:
            return (await http.get(f"/models/{folder}")).raise_for_status().json()


async def _first_of(*awaitables, timeout: float) -> bool:
    """Wait until any completes; False on timeout. Futures passed in are left alone."""
    tasks = [a if isinstance(a, asyncio.Future) else asyncio.ensure_future(a) for a in awaitables]
    try:
        done, _ = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        return bool(done)
    finally:
        for task, given in zip(tasks, awaitables):
            if task is not given:
                task.cancel()


async def _quietly(*requests) -> None:
    """Best-effort clean-up calls: their failure must not hide the error being raised."""
    await asyncio.gather(*requests, return_exceptions=True)
