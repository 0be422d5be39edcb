"""The ComfyUI client, as a Dagster resource.

It follows what the real server does (shared/fixtures/comfyui/README.md): the websocket is opened
before POST /prompt (there is no replay), completion is `executing` with `node: null`, and a slow
poll of /history and /queue runs beside the socket so a dropped socket costs latency, not the job.
A prompt in neither queue nor history is lost (server restarted) and is submitted again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Union

import dagster as dg
import httpx
import websockets
from pydantic import PrivateAttr

from resources.comfyui_protocol import (
    ComfyExecutionError, ComfyOutput, ComfyRun, ComfyTimeoutError, ComfyUnavailableError,
    execution_error_of, gpu_seconds_of, outputs_of, parse_validation_error, status_messages,
)

_LOST = "lost"


class ComfyUIResource(dg.ConfigurableResource):
    # One server per GPU; jobs go to the least busy one.
    urls: list[str] = ["http://127.0.0.1:8188"]
    connect_timeout_s: float = 5.0
    run_timeout_s: float = 1800.0
    history_timeout_s: float = 10.0
    poll_interval_s: float = 2.0
    max_resubmits: int = 2
    progress_log_every_s: float = 5.0

    _in_flight: dict = PrivateAttr(default_factory=dict)

    def _client(self, server: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=server, timeout=httpx.Timeout(30.0, connect=self.connect_timeout_s))

    async def _load(self, server: str) -> int:
        try:
            async with self._client(server) as client:
                queue = (await client.get("/queue")).json()
            return len(queue["queue_running"]) + len(queue["queue_pending"]) + self._in_flight.get(server, 0)
        except (httpx.HTTPError, ValueError, KeyError):
            return 1_000_000  # unreachable servers go last, but are still tried if all are down

    async def pick_server(self) -> str:
        if len(self.urls) == 1:
            return self.urls[0]
        loads = await asyncio.gather(*(self._load(u) for u in self.urls))
        _, best = min(zip(loads, range(len(self.urls))))
        return self.urls[best]

    async def run(self, workflow: dict, *, images: dict[str, bytes] | None = None,
                  log: logging.Logger | None = None) -> ComfyRun:
        log = log or logging.getLogger(__name__)
        attempts, oom_retried = 0, False
        while True:
            attempts += 1
            server = await self.pick_server()
            self._in_flight[server] = self._in_flight.get(server, 0) + 1
            try:
                outcome = await self._run_once(server, workflow, images or {}, log)
            except ComfyExecutionError as exc:
                if exc.out_of_memory and not oom_retried:
                    oom_retried = True
                    log.warning("ComfyUI ran out of memory on %s; freeing memory and retrying once", server)
                    await self.free(server)
                    continue
                raise
            finally:
                self._in_flight[server] -= 1
            if outcome == _LOST:
                if attempts > self.max_resubmits:
                    raise ComfyUnavailableError(f"prompt lost {attempts} times (ComfyUI restarting?)")
                log.warning("prompt lost on %s (server restarted?); submitting it again", server)
                continue
            outcome.attempts = attempts
            return outcome

    async def _run_once(self, server: str, workflow: dict, images: dict[str, bytes], log) -> Union[ComfyRun, str]:
        for name, data in images.items():
            await self.upload_image(data, name, server_url=server)
        client_id = uuid.uuid4().hex
        ws_url = server.replace("http", "ws", 1) + f"/ws?clientId={client_id}"
        try:
            socket = await asyncio.wait_for(websockets.connect(ws_url, max_size=None), self.connect_timeout_s)
        except (OSError, asyncio.TimeoutError, websockets.WebSocketException):
            socket = None  # the poll alone still finds completion
        try:
            async with self._client(server) as client:
                try:
                    response = await client.post("/prompt", json={"prompt": workflow, "client_id": client_id})
                except httpx.HTTPError as exc:
                    raise ComfyUnavailableError(f"cannot reach ComfyUI at {server}: {exc}") from None
                if response.status_code == 400:
                    raise parse_validation_error(response.json())
                if response.status_code != 200:
                    raise ComfyUnavailableError(f"ComfyUI at {server} answered {response.status_code}")
                prompt_id = response.json()["prompt_id"]
                finished = await self._wait(client, socket, prompt_id, log)
                if finished == _LOST:
                    return _LOST
                entry = await self._history(client, prompt_id)
        finally:
            if socket is not None:
                await socket.close()
        if entry is None:
            return _LOST
        error = execution_error_of(entry)
        if error:
            raise error
        cached = status_messages(entry).get("execution_cached", {}).get("nodes", [])
        return ComfyRun(prompt_id, server, outputs_of(entry), gpu_seconds_of(entry), cached_nodes=cached)

    async def _wait(self, client: httpx.AsyncClient, socket, prompt_id: str, log) -> str:
        done: asyncio.Future = asyncio.get_running_loop().create_future()

        def finish(outcome: str) -> None:
            if not done.done():
                done.set_result(outcome)

        async def watch_socket() -> None:
            last_log = 0.0
            try:
                async for raw in socket:
                    if isinstance(raw, bytes):
                        continue  # preview frames
                    message = json.loads(raw)
                    data = message.get("data") or {}
                    if data.get("prompt_id") != prompt_id:
                        continue
                    kind = message.get("type")
                    if (kind == "executing" and data.get("node") is None) or kind in (
                            "execution_error", "execution_interrupted"):
                        finish("done")
                        return
                    if kind == "progress" and time.monotonic() - last_log >= self.progress_log_every_s:
                        last_log = time.monotonic()
                        log.info("ComfyUI %s node %s: %s/%s", prompt_id[:8], data.get("node"),
                                 data.get("value"), data.get("max"))
            except websockets.ConnectionClosed:
                pass  # the poll carries on

        async def poll() -> None:
            misses = 0
            while True:
                await asyncio.sleep(self.poll_interval_s)
                try:
                    entry = (await client.get(f"/history/{prompt_id}")).json().get(prompt_id)
                    if entry and (entry.get("status") or {}).get("status_str") in ("success", "error"):
                        finish("done")
                        return
                    queue = (await client.get("/queue")).json()
                except (httpx.HTTPError, ValueError):
                    continue  # server down for a moment: keep polling until the run timeout
                queued = {item[1] for item in queue["queue_running"] + queue["queue_pending"]}
                # Two misses in a row: history can trail completion by a moment (race_probe.json).
                misses = 0 if prompt_id in queued or entry else misses + 1
                if misses >= 2:
                    finish(_LOST)
                    return

        tasks = [asyncio.create_task(poll())]
        if socket is not None:
            tasks.append(asyncio.create_task(watch_socket()))
        try:
            return await asyncio.wait_for(done, self.run_timeout_s)
        except asyncio.TimeoutError:
            raise ComfyTimeoutError("run", self.run_timeout_s) from None
        finally:
            for task in tasks:
                task.cancel()

    async def _history(self, client: httpx.AsyncClient, prompt_id: str) -> dict | None:
        """History can still be {} right after completion: retry briefly."""
        deadline, delay = time.monotonic() + self.history_timeout_s, 0.02
        while True:
            entry = (await client.get(f"/history/{prompt_id}")).json().get(prompt_id)
            if entry:
                return entry
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def download(self, run_or_server: Union[ComfyRun, str], output: ComfyOutput) -> bytes:
        server = run_or_server.server_url if isinstance(run_or_server, ComfyRun) else run_or_server
        async with self._client(server) as client:
            response = await client.get("/view", params={"filename": output.filename,
                                                         "subfolder": output.subfolder, "type": output.type})
            response.raise_for_status()
            return response.content

    async def upload_image(self, data: bytes, name: str, server_url: str | None = None) -> str:
        """Upload under `name` (overwrite: names are content hashes, so same name = same bytes)."""
        async with self._client(server_url or self.urls[0]) as client:
            response = await client.post("/upload/image", files={"image": (name, data, "image/png")},
                                         data={"overwrite": "true", "type": "input"})
            response.raise_for_status()
            return response.json()["name"]

    async def free(self, server_url: str) -> None:
        async with self._client(server_url) as client:
            await client.post("/free", json={"unload_models": True, "free_memory": True})

    async def system_stats(self) -> dict[str, dict]:
        async def one(url: str) -> dict:
            async with self._client(url) as client:
                return (await client.get("/system_stats")).json()

        results = await asyncio.gather(*(one(u) for u in self.urls), return_exceptions=True)
        return {u: (r if isinstance(r, dict) else {"error": str(r)}) for u, r in zip(self.urls, results)}
