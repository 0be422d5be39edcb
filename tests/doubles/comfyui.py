"""A ComfyUI test double that behaves as the captured fixtures show (shared/fixtures/comfyui/).

Controls: `job_seconds` (simulated GPU time per job), `fail_next("oom"|"runtime")`, `restart()`
(queue and history are lost, files survive), `drop_websocket` (accept the socket, send nothing),
`history_lag_s` (history still {} right after completion), and `jobs`, a record of every execution.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import uuid
from collections import Counter
from pathlib import Path
from typing import Callable

from aiohttp import WSMsgType, web
from PIL import Image

from comfy_graphs.validate import validate_workflow
from tests.doubles.comfyui_errors import validation_error_body
from tests.doubles.comfyui_execution import JobRecord, execute_prompt
from tests.doubles.server_thread import ServerThread

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "comfyui"


def default_render(workflow: dict, prompt_id: str, index: int) -> bytes:
    """A small PNG that differs with the seed, so perceptual dedup sees distinct images."""
    seed = next((n["inputs"]["seed"] for n in workflow.values() if "seed" in n.get("inputs", {})), 0)
    rng = random.Random(f"{seed}:{index}")
    image = Image.new("RGB", (64, 64), tuple(rng.randint(0, 255) for _ in range(3)))
    for _ in range(6):
        x, y = rng.randint(0, 56), rng.randint(0, 56)
        image.paste(tuple(rng.randint(0, 255) for _ in range(3)), (x, y, x + rng.randint(8, 32), y + rng.randint(8, 32)))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


class ComfyUIDouble:
    def __init__(self, *, job_seconds: float = 0.0, render: Callable[[dict, str, int], bytes] = default_render,
                 history_lag_s: float = 0.0, drop_websocket: bool = False, output_dir: Path | None = None,
                 models: dict[str, list[str]] | None = None):
        self.job_seconds = job_seconds
        self.render = render
        self.history_lag_s = history_lag_s
        self.drop_websocket = drop_websocket
        self.object_info = json.loads((FIXTURES / "object_info.json").read_text())
        self.system_stats = json.loads((FIXTURES / "system_stats.json").read_text())
        self.models = models or {"ipadapter": ["ip-adapter-plus_sd15.safetensors"], "clip_vision": ["clip-vit-h.safetensors"]}
        self.output_dir = output_dir
        self.files: dict[tuple[str, str, str], bytes] = {}  # (type, subfolder, name) -> bytes
        self.jobs: list[JobRecord] = []
        self.requests: Counter = Counter()
        self.posted_prompts: list[dict] = []
        self._failures: list[str] = []
        self._server = ServerThread(self._app)
        self._number = 0

    # --- controls -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self._server.url

    def fail_next(self, kind: str) -> None:
        assert kind in ("oom", "runtime")
        self._failures.append(kind)

    def restart(self) -> None:
        """What a real restart does: queue, history and sockets gone; output files stay."""
        self._server.call(self._restart())

    def __enter__(self) -> "ComfyUIDouble":
        self._server.start()
        self._server.call(self._init_state())
        return self

    def __exit__(self, *exc) -> None:
        self._server.call(self._shutdown())
        self._server.stop()

    # --- state on the server loop ------------------------------------------------------------
    async def _init_state(self) -> None:
        self.queue: list[dict] = []
        self.running: dict | None = None
        self.history: dict[str, dict] = {}
        self.sockets: dict[str, list[web.WebSocketResponse]] = {}
        self._wakeup = asyncio.Event()
        self._worker = asyncio.create_task(self._work())

    async def _shutdown(self) -> None:
        self._worker.cancel()
        for sockets in self.sockets.values():
            for ws in sockets:
                await ws.close()

    async def _restart(self) -> None:
        await self._shutdown()
        await self._init_state()

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._origin_check], client_max_size=64 * 1024 * 1024)
        app.router.add_post("/prompt", self._post_prompt)
        app.router.add_get("/ws", self._ws)
        app.router.add_get("/history/{prompt_id}", self._get_history_one)
        app.router.add_get("/history", self._get_history)
        app.router.add_get("/queue", self._get_queue)
        app.router.add_post("/queue", self._post_queue)
        app.router.add_post("/interrupt", self._interrupt)
        app.router.add_post("/free", self._free)
        app.router.add_post("/upload/image", self._upload)
        app.router.add_get("/view", self._view)
        app.router.add_get("/system_stats", self._system_stats)
        app.router.add_get("/object_info", self._object_info)
        app.router.add_get("/models/{folder}", self._models)
        return app

    @web.middleware
    async def _origin_check(self, request: web.Request, handler):
        resource = request.match_info.route.resource
        self.requests[f"{request.method} {resource.canonical if resource else request.path}"] += 1
        origin = request.headers.get("Origin")
        if origin and origin.split("://", 1)[-1] != request.host:
            return web.Response(status=403, text="origin mismatch")
        return await handler(request)

    async def _send(self, client_id: str | None, kind: str, data: dict) -> None:
        if self.drop_websocket or not client_id:
            return
        for ws in list(self.sockets.get(client_id, [])):
            if not ws.closed:
                await ws.send_str(json.dumps({"type": kind, "data": data}))

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        client_id = request.query.get("clientId") or uuid.uuid4().hex
        self.sockets.setdefault(client_id, []).append(ws)
        await self._send(client_id, "status", {"status": {"exec_info": {"queue_remaining": len(self.queue)}},
                                              "sid": client_id})
        async for message in ws:
            if message.type == WSMsgType.ERROR:
                break
        self.sockets.get(client_id, []).remove(ws) if ws in self.sockets.get(client_id, []) else None
        return ws

    async def _post_prompt(self, request: web.Request) -> web.Response:
        body = await request.json()
        workflow = body.get("prompt") or {}
        errors = validate_workflow(workflow, self.object_info)
        if errors:
            return web.json_response(validation_error_body(workflow, errors), status=400)
        prompt_id = body.get("prompt_id") or str(uuid.uuid4())  # client ids accepted, not de-duplicated
        self._number += 1
        entry = {"number": self._number, "prompt_id": prompt_id, "prompt": workflow,
                 "client_id": body.get("client_id"), "outputs": [k for k, n in workflow.items()
                                                                 if self.object_info[n["class_type"]].get("output_node")]}
        self.posted_prompts.append(entry)
        self.queue.append(entry)
        self._wakeup.set()
        return web.json_response({"prompt_id": prompt_id, "number": self._number, "node_errors": {}})

    def _queue_item(self, e: dict) -> list:
        return [e["number"], e["prompt_id"], e["prompt"], {"client_id": e["client_id"]}, e["outputs"]]

    async def _get_queue(self, request):
        running = [self._queue_item(self.running)] if self.running else []
        return web.json_response({"queue_running": running, "queue_pending": [self._queue_item(e) for e in self.queue]})

    async def _post_queue(self, request):
        body = await request.json()
        if body.get("clear"):
            self.queue.clear()
        delete = set(body.get("delete", []))
        self.queue[:] = [e for e in self.queue if e["prompt_id"] not in delete]
        return web.json_response({})

    async def _interrupt(self, request):
        if self.running and self.running.get("task"):
            self.running["task"].cancel()
        return web.json_response({})

    async def _system_stats(self, request):
        return web.json_response(self.system_stats)

    async def _object_info(self, request):
        return web.json_response(self.object_info)

    async def _models(self, request):
        return web.json_response(self.models.get(request.match_info["folder"], []))

    async def _free(self, request):
        return web.json_response({})

    async def _get_history_one(self, request):
        prompt_id = request.match_info["prompt_id"]
        entry = self.history.get(prompt_id)
        return web.json_response({prompt_id: entry} if entry else {})

    async def _get_history(self, request):
        return web.json_response(self.history)

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form["image"]
        subfolder = str(form.get("subfolder", ""))
        if ".." in Path(subfolder).parts or subfolder.startswith("/"):
            return web.Response(status=400)
        overwrite = str(form.get("overwrite", "false")).lower() == "true"
        kind = str(form.get("type", "input"))
        data, name = upload.file.read(), Path(upload.filename).name
        stem, suffix = Path(name).stem, Path(name).suffix
        counter = 1
        while not overwrite and (kind, subfolder, name) in self.files and self.files[(kind, subfolder, name)] != data:
            name = f"{stem} ({counter}){suffix}"
            counter += 1
        self.files[(kind, subfolder, name)] = data
        return web.json_response({"name": name, "subfolder": subfolder, "type": kind})

    async def _view(self, request: web.Request) -> web.Response:
        q = request.query
        data = self.files.get((q.get("type", "output"), q.get("subfolder", ""), q.get("filename", "")))
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="image/png")

    # --- execution ---------------------------------------------------------------------------
    async def _work(self) -> None:
        while True:
            if not self.queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            entry = self.queue.pop(0)
            self.running = entry
            try:
                await self._execute(entry)
            finally:
                self.running = None

    async def _execute(self, entry: dict) -> None:
        task = asyncio.create_task(execute_prompt(self, entry))
        entry["task"] = task  # POST /interrupt cancels it
        try:
            await task
        except asyncio.CancelledError:
            if not self._worker.cancelled():
                return  # interrupted: the prompt simply ends, as on the real server
            raise
