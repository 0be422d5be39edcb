"""A ComfyUI test double: a real HTTP + WebSocket server that behaves as shared/fixtures/comfyui/ shows.

    with ComfyUIDouble(job_seconds=0.2) as comfy:
        ComfyUIClient([comfy.url]) ...

Controls: `job_seconds` (GPU time per job), `fail_next("oom"|"runtime")`, `restart()` (queue, history,
cache and sockets gone; files stay), `stop_serving()` / `serve_again()` (the process gone: port closed,
the running job killed; back on the same port with an empty queue and history, as
after_restart_history.txt shows), `drop_websocket` (accept the socket, send nothing),
`history_lag_s` (history still {} right after completion), `install(class_type, input, value)` /
`install_model(folder, name)`. Records: `jobs` (one JobRecord per execution), `requests` (count per
route), `posted_prompts` (accepted POST /prompt bodies), `free_requests`, `sent` (every ws message).
Execution is in comfyui_execution.py, POST /prompt validation in comfyui_errors.py, installed models in
comfyui_catalog.py, uploads and downloads in comfyui_files.py, the stand-in pictures' PNG files in png.py.
"""

from __future__ import annotations

import asyncio
import copy
import heapq
import json
import random
import tempfile
import time
import urllib.parse
import uuid
from collections import Counter
from pathlib import Path
from typing import Callable

from aiohttp import web

from tests.doubles.comfyui_catalog import FIXTURES, ModelCatalog
from tests.doubles.comfyui_errors import input_exists, validate_prompt
from tests.doubles.comfyui_execution import JobRecord, PromptExecution, upstream_shape
from tests.doubles.comfyui_files import upload, view
from tests.doubles.png import rectangles_png
from tests.doubles.server_thread import ServerThread

_SYSTEM_STATS = json.loads((FIXTURES / "system_stats.json").read_text())

Render = Callable[[dict, str, int], bytes]


def _seed_of(workflow: dict) -> int:
    return next((int(n["inputs"]["seed"]) for n in workflow.values()
                 if isinstance(n.get("inputs", {}).get("seed"), int)), 0)


def default_render(workflow: dict, prompt_id: str, index: int) -> bytes:
    """A PNG of the requested size that depends only on seed and batch index (distinct per seed)."""
    save = next((k for k, n in workflow.items() if n["class_type"] in ("SaveImage", "PreviewImage",
                                                                       "VHS_VideoCombine")), None)
    _, width, height = upstream_shape(workflow, save) if save else (1, 64, 64)
    rng = random.Random(f"{_seed_of(workflow)}:{index}")
    background = tuple(rng.randint(0, 255) for _ in range(3))
    rectangles = []
    for _ in range(8):
        x, y = rng.randint(0, width - 1), rng.randint(0, height - 1)
        w, h = rng.randint(width // 8 + 1, width // 2 + 1), rng.randint(height // 8 + 1, height // 2 + 1)
        rectangles.append((x, y, x + w, y + h, tuple(rng.randint(0, 255) for _ in range(3))))
    return rectangles_png(width, height, background, rectangles)


def default_render_video(workflow: dict, prompt_id: str, index: int) -> bytes:
    """Not a playable video: plug in a real encoder where a test needs one."""
    return f"comfyui-double video seed={_seed_of(workflow)} prompt={prompt_id}\n".encode()


class ComfyUIDouble:
    def __init__(self, *, job_seconds: float = 0.0, render: Render = default_render,
                 render_video: Render = default_render_video, history_lag_s: float = 0.0,
                 drop_websocket: bool = False, output_dir: Path | str | None = None,
                 models: dict[str, list[str]] | None = None):
        self.job_seconds, self.history_lag_s, self.drop_websocket = job_seconds, history_lag_s, drop_websocket
        self.render, self.render_video = render, render_video
        self.catalog = ModelCatalog(models)
        self.object_info, self.models = self.catalog.object_info, self.catalog.models
        self.system_stats = copy.deepcopy(_SYSTEM_STATS)
        self._tmp = None if output_dir else tempfile.TemporaryDirectory(prefix="comfyui-double-")
        self.root = Path(output_dir or self._tmp.name).resolve()
        for kind in ("input", "output", "temp"):
            self.folder(kind).mkdir(parents=True, exist_ok=True)
        self.jobs: list[JobRecord] = []
        self.requests: Counter = Counter()
        self.posted_prompts: list[dict] = []
        self.free_requests: list[dict] = []
        self.sent: list[tuple[str, dict]] = []
        self._failures: list[str] = []
        self._server = ServerThread(self._app)

    # --- controls (any thread) -------------------------------------------------------------
    @property
    def url(self) -> str:
        return self._server.url

    @property
    def input_dir(self) -> Path:
        return self.folder("input")

    @property
    def output_dir(self) -> Path:
        return self.folder("output")

    def folder(self, kind: str) -> Path:
        return self.root / kind

    def fail_next(self, kind: str) -> None:
        """The next job that runs anything fails in its sampler: "oom" (CUDA OOM) or "runtime" (run4)."""
        if kind not in ("oom", "runtime"):
            raise ValueError(f"unknown failure kind {kind!r}")
        self._failures.append(kind)

    def take_failure(self) -> str | None:
        return self._failures.pop(0) if self._failures else None

    def restart(self) -> None:
        """What a real restart loses: queue, history, cache, sockets. Files on disk stay."""
        self._server.call(self._restart())

    def stop_serving(self) -> None:
        """The server process exits: port closed, the running job killed, queue and history gone."""
        self._server.call(self._shutdown())
        self._server.stop_serving()

    def serve_again(self) -> None:
        """A fresh process on the same port: empty queue, history and cache; output files as they were."""
        self._server.serve_again()
        self._server.call(self._init_state())

    def install_model(self, folder: str, name: str) -> None:
        self.catalog.install_model(folder, name)

    def install(self, class_type: str, input_name: str, value: str) -> None:
        """Make `value` valid for a combo input (for a model loader: put the file in its folder)."""
        self.catalog.install(class_type, input_name, value)

    def __enter__(self) -> "ComfyUIDouble":
        self._server.start()
        self._server.call(self._init_state())
        return self

    def __exit__(self, *exc) -> None:
        self._server.call(self._shutdown())
        self._server.stop()
        if self._tmp:
            self._tmp.cleanup()

    # --- server state (server loop only) ---------------------------------------------------
    async def _init_state(self) -> None:
        self.pending: list[tuple[float, int, dict]] = []  # a heap, listed in heap order like ComfyUI
        self.running: dict | None = None
        self.history: dict[str, dict] = {}
        self.sockets: dict[str, web.WebSocketResponse] = {}
        self.cache: dict[str, dict | None] = {}
        self.interrupt_requested = False
        self._number = 0
        self._lagging: list[asyncio.TimerHandle] = []
        self._wakeup = asyncio.Event()
        self._worker = asyncio.create_task(self._work())

    async def _shutdown(self) -> None:
        self._worker.cancel()
        await asyncio.gather(self._worker, return_exceptions=True)
        for handle in self._lagging:
            handle.cancel()
        # Short close handshakes: a test may call restart() from a loop that cannot answer them.
        await asyncio.gather(*(ws.close() for ws in list(self.sockets.values())), return_exceptions=True)

    async def _restart(self) -> None:
        await self._shutdown()
        await self._init_state()

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._count_and_check_origin], client_max_size=256 * 1024 * 1024)
        routes = [("POST", "/prompt", self._post_prompt), ("GET", "/prompt", self._get_prompt),
                  ("GET", "/ws", self._ws), ("GET", "/history", self._get_history),
                  ("GET", "/history/{prompt_id}", self._get_history_one), ("POST", "/history", self._post_history),
                  ("GET", "/queue", self._get_queue), ("POST", "/queue", self._post_queue),
                  ("POST", "/interrupt", self._interrupt), ("POST", "/free", self._free),
                  ("POST", "/upload/image", self._upload), ("GET", "/view", self._view),
                  ("GET", "/system_stats", self._system_stats), ("GET", "/object_info", self._object_info),
                  ("GET", "/models", self._model_folders), ("GET", "/models/{folder}", self._models)]
        for method, path, handler in routes:
            app.router.add_route(method, path, handler)
        return app

    @web.middleware
    async def _count_and_check_origin(self, request: web.Request, handler):
        resource = request.match_info.route.resource
        self.requests[f"{request.method} {resource.canonical if resource else request.path}"] += 1
        # ComfyUI refuses a browser Origin that does not match a loopback Host (CSRF guard).
        host, origin = request.headers.get("Host"), request.headers.get("Origin")
        if host and origin:
            host_parts, origin_parts = urllib.parse.urlsplit("//" + host.lower()), urllib.parse.urlsplit(origin.lower())
            host_side = host.lower() if origin_parts.port is not None else host_parts.hostname
            origin_side = origin_parts.netloc if host_parts.port is not None else origin_parts.hostname
            if host_parts.hostname in ("127.0.0.1", "localhost", "::1") and host_side != origin_side:
                return web.Response(status=403)
        return await handler(request)

    # --- websocket ---------------------------------------------------------------------------
    def _queue_remaining(self) -> int:
        return len(self.pending) + (1 if self.running else 0)

    async def _send_one(self, ws: web.WebSocketResponse, sid: str, kind: str, data: dict) -> None:
        if self.drop_websocket or ws.closed:
            return
        message = {"type": kind, "data": data}
        self.sent.append((sid, message))
        try:
            await ws.send_str(json.dumps(message))
        except (ConnectionError, RuntimeError):
            pass  # the client went away; ComfyUI does not care either

    async def send(self, client_id: str | None, kind: str, data: dict) -> None:
        """Execution messages go to the prompt's client only (none if it gave no client_id)."""
        ws = self.sockets.get(client_id) if client_id else None
        if ws is not None:
            await self._send_one(ws, client_id, kind, data)

    async def broadcast_status(self) -> None:
        for sid, ws in list(self.sockets.items()):
            await self._send_one(ws, sid, "status", {"status": {"exec_info": {"queue_remaining":
                                                                              self._queue_remaining()}}})

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, timeout=0.5)
        await ws.prepare(request)
        sid = request.query.get("clientId") or uuid.uuid4().hex
        self.sockets[sid] = ws  # a reconnect with the same clientId replaces the old socket
        await self._send_one(ws, sid, "status", {"status": {"exec_info": {"queue_remaining": self._queue_remaining()}},
                                                 "sid": sid})
        try:
            async for _ in ws:
                pass  # clients may send feature flags; nothing to answer for this double
        finally:
            if self.sockets.get(sid) is ws:
                del self.sockets[sid]
        return ws

    # --- prompts and queue -------------------------------------------------------------------
    async def _post_prompt(self, request: web.Request) -> web.Response:
        body = await request.json()
        if "prompt" not in body:
            error = {"type": "no_prompt", "message": "No prompt provided", "details": "No prompt provided",
                     "extra_info": {}}
            return web.json_response({"error": error, "node_errors": {}}, status=400)
        prompt = body["prompt"]
        error, outputs, node_errors = validate_prompt(prompt, self.object_info, input_exists(self.input_dir))
        if error:
            return web.json_response({"error": error, "node_errors": node_errors}, status=400)
        number = body.get("number", self._number)
        number = -number if body.get("front") else number
        self._number += 1
        prompt_id = str(body.get("prompt_id") or uuid.uuid4())  # accepted as given, never de-duplicated
        entry = {"number": number, "prompt_id": prompt_id, "prompt": prompt, "client_id": body.get("client_id"),
                 "outputs": outputs, "created": int(time.time() * 1000)}
        self.posted_prompts.append(entry)
        heapq.heappush(self.pending, (number, self._number, entry))
        self._wakeup.set()
        await self.broadcast_status()
        return web.json_response({"prompt_id": prompt_id, "number": number, "node_errors": node_errors})

    async def _get_prompt(self, request):
        return web.json_response({"exec_info": {"queue_remaining": self._queue_remaining()}})

    @staticmethod
    def _queue_item(entry: dict) -> list:
        return [entry["number"], entry["prompt_id"], entry["prompt"],
                {"client_id": entry["client_id"], "create_time": entry["created"]}, entry["outputs"]]

    async def _get_queue(self, request):
        return web.json_response({"queue_running": [self._queue_item(self.running)] if self.running else [],
                                  "queue_pending": [self._queue_item(e) for _, _, e in self.pending]})

    async def _post_queue(self, request):
        body = await request.json()
        if body.get("clear"):
            self.pending.clear()
        if "delete" in body:
            doomed = set(body["delete"])
            self.pending[:] = [item for item in self.pending if item[2]["prompt_id"] not in doomed]
            heapq.heapify(self.pending)
        await self.broadcast_status()
        return web.Response(status=200)

    async def _interrupt(self, request):
        body = await request.json() if request.can_read_body else {}
        wanted = (body or {}).get("prompt_id")
        # With a prompt_id only that prompt is interrupted; a wrong id is a no-op (queue_interrupt_probe).
        if self.running and (wanted is None or wanted == self.running["prompt_id"]):
            self.interrupt_requested = True
        return web.Response(status=200)

    async def _free(self, request):
        body = await request.json() if request.can_read_body else {}
        self.free_requests.append(body)
        if body.get("unload_models"):
            self.cache.clear()  # unloaded models take their cached outputs with them
        return web.Response(status=200)

    async def _work(self) -> None:
        """One job at a time, like ComfyUI's single prompt worker."""
        while True:
            while not self.pending:
                self._wakeup.clear()
                await self._wakeup.wait()
            _, _, entry = heapq.heappop(self.pending)
            self.running = entry
            await self.broadcast_status()
            try:
                history, record = await PromptExecution(self, entry).run()
            finally:
                self.running = None
            self.jobs.append(record)
            self._publish(entry["prompt_id"], history)
            await self.broadcast_status()
            await self.send(entry["client_id"], "executing", {"node": None, "prompt_id": entry["prompt_id"]})

    def _publish(self, prompt_id: str, history: dict) -> None:
        if not self.history_lag_s:
            self.history[prompt_id] = history
            return
        handle = asyncio.get_running_loop().call_later(self.history_lag_s, self.history.__setitem__,
                                                       prompt_id, history)
        self._lagging.append(handle)

    # --- history -------------------------------------------------------------------------------
    async def _get_history_one(self, request):
        prompt_id = request.match_info["prompt_id"]
        entry = self.history.get(prompt_id)
        return web.json_response({prompt_id: entry} if entry else {})

    async def _get_history(self, request):
        items = list(self.history.items())
        if "max_items" in request.query:
            items = items[-int(request.query["max_items"]):]
        return web.json_response(dict(items))

    async def _post_history(self, request):
        body = await request.json()
        if body.get("clear"):
            self.history.clear()
        for prompt_id in body.get("delete", []):
            self.history.pop(prompt_id, None)
        return web.Response(status=200)

    # --- files ---------------------------------------------------------------------------------
    async def _upload(self, request: web.Request) -> web.Response:
        return await upload(self.folder, request)

    async def _view(self, request: web.Request) -> web.StreamResponse:
        return view(self.folder, request)

    # --- static information ----------------------------------------------------------------
    async def _system_stats(self, request):
        return web.json_response(self.system_stats)

    async def _object_info(self, request):
        return web.json_response(self.object_info)

    async def _model_folders(self, request):
        return web.json_response(sorted(self.models))

    async def _models(self, request):
        folder = request.match_info["folder"]
        if folder not in self.models:
            return web.Response(status=404)
        return web.json_response(self.models[folder])
