"""How the ComfyUI double runs one prompt, message for message as the captured runs show.

run1/run15: execution_start, execution_cached, then per node progress_state + executing (+ progress
for samplers, executed for output nodes), execution_success. run2: nodes whose inputs did not change
since the previous prompt are cached and an unchanged SaveImage returns the OLD file. run4/run13:
failures while running are execution_error. queue_interrupt_probe: interrupts are
execution_interrupted. The worker in comfyui.py sends the trailing status and `executing: null`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from tests.doubles.png import with_text

SAMPLERS = {"KSampler", "KSamplerAdvanced", "FramePackSampler"}

# What torch and ComfyUI put in exception_message on a CUDA OOM (ComfyUI appends its tips).
OOM_MESSAGE = (
    "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 11.76 GiB of which 1.02 GiB "
    "is free. Including non-PyTorch memory, this process has 10.72 GiB memory in use. Of the allocated memory "
    "9.80 GiB is allocated by PyTorch, and 512.00 MiB is reserved by PyTorch but unallocated. If reserved but "
    "unallocated memory is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid "
    "fragmentation.  See documentation for Memory Management  "
    "(https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)\n"
    "This error means you ran out of memory on your GPU.\n\nTIPS: If the workflow worked before you might have "
    "accidentally set the batch_size to a large number.")
RUNTIME_MESSAGE = "mat1 and mat2 shapes cannot be multiplied (154x2048 and 768x320)"


@dataclass
class JobRecord:
    prompt_id: str
    started_at: float  # time.monotonic() of this process, so tests can compare jobs for overlap
    finished_at: float
    status: str  # success | error | interrupted | killed (server restarted mid-job)


class NodeFailure(Exception):
    def __init__(self, message: str, exception_type: str = "Exception"):
        super().__init__(message)
        self.message, self.exception_type = message, exception_type


class Interrupted(Exception):
    pass


def _ms() -> int:
    return int(time.time() * 1000)


def _is_link(value) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)


def execution_order(prompt: dict, outputs: list[str]) -> list[str]:
    """Only what the outputs need, dependencies first."""
    order: list[str] = []

    def visit(node_id: str) -> None:
        if node_id in order:
            return
        for value in prompt[node_id]["inputs"].values():
            if _is_link(value):
                visit(value[0])
        order.append(node_id)

    for output in outputs:
        visit(output)
    return order


def signatures(prompt: dict, order: list[str], input_dir: Path) -> dict[str, str]:
    """What ComfyUI's cache keys on: class, literal inputs, upstream signatures (LoadImage: file content)."""
    signature: dict[str, str] = {}
    for node_id in order:
        node = prompt[node_id]
        inputs = {k: (["link", signature[v[0]], v[1]] if _is_link(v) else v) for k, v in node["inputs"].items()}
        if node["class_type"] == "LoadImage":
            path = input_dir / str(node["inputs"].get("image", ""))
            inputs["__file__"] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        signature[node_id] = json.dumps([node["class_type"], inputs], sort_keys=True, default=str)
    return signature


def upstream_shape(prompt: dict, node_id: str) -> tuple[int, int, int]:
    """(batch, width, height) of the images reaching a node: nearest sizes, nearest batch_size."""
    batch = width = height = None
    frontier = [node_id]
    while frontier and (batch is None or width is None):
        inputs = prompt[frontier.pop(0)]["inputs"]
        if width is None and isinstance(inputs.get("width"), int) and isinstance(inputs.get("height"), int):
            width, height = inputs["width"], inputs["height"]
        if batch is None and isinstance(inputs.get("batch_size"), int):
            batch = inputs["batch_size"]
        frontier += [v[0] for v in inputs.values() if _is_link(v) and v[0] in prompt]
    return batch or 1, width or 512, height or 512


_DIGITS = re.compile(r"\d+")


def next_counter(folder: Path, stem: str) -> int:
    """ComfyUI numbers files per prefix: one past the highest existing counter."""
    # One pattern for every prefix: compiling one per job's prefix cost ~1 ms of CPU per image.
    head = stem + "_"
    found = [int(m.group()) for f in (os.listdir(folder) if folder.is_dir() else [])
             if f.startswith(head) and (m := _DIGITS.match(f, len(head)))]
    return max(found, default=0) + 1


class PromptExecution:
    def __init__(self, double, entry: dict):
        self.double, self.entry = double, entry
        self.prompt, self.prompt_id = entry["prompt"], entry["prompt_id"]
        self.history_messages: list[list] = []
        self.node_states: dict[str, dict] = {}
        self.executed: list[str] = []

    async def emit(self, kind: str, data: dict) -> None:
        if kind.startswith("execution_"):
            self.history_messages.append([kind, data])
        await self.double.send(self.entry["client_id"], kind, data)

    async def progress_state(self, node_id: str, value, maximum, state: str) -> None:
        self.node_states[node_id] = {"value": value, "max": maximum, "state": state, "node_id": node_id,
                                     "prompt_id": self.prompt_id, "display_node_id": node_id,
                                     "parent_node_id": None, "real_node_id": node_id}
        await self.emit("progress_state", {"prompt_id": self.prompt_id, "nodes": dict(self.node_states)})

    def check_interrupt(self, node_id: str) -> None:
        if self.double.interrupt_requested:
            raise Interrupted(node_id)

    async def run(self) -> tuple[dict, JobRecord]:
        """Execute, then return (history entry, job record)."""
        double, prompt_id = self.double, self.prompt_id
        started_at = time.monotonic()
        double.interrupt_requested = False
        order = execution_order(self.prompt, self.entry["outputs"])
        signature = signatures(self.prompt, order, double.input_dir)
        cached = [n for n in order if signature[n] in double.cache]
        to_run = [n for n in order if n not in cached]
        gpu_nodes = [n for n in to_run if self.prompt[n]["class_type"] in SAMPLERS] or to_run[:1]
        failure = double.take_failure() if to_run else None
        outputs: dict[str, dict] = {}
        new_cache: dict[str, dict | None] = {}
        await self.emit("execution_start", {"prompt_id": prompt_id, "timestamp": _ms()})
        await self.emit("execution_cached", {"nodes": cached, "prompt_id": prompt_id, "timestamp": _ms()})
        status = "success"
        current = None
        try:
            for node_id in order:
                current = node_id
                if node_id in cached:
                    ui = new_cache[signature[node_id]] = double.cache[signature[node_id]]
                else:
                    self.check_interrupt(node_id)
                    await self.progress_state(node_id, 0.0, 1.0, "running")
                    await self.emit("executing", {"node": node_id, "display_node": node_id, "prompt_id": prompt_id})
                    seconds = double.job_seconds / len(gpu_nodes) if node_id in gpu_nodes else 0.0
                    ui = await self.run_node(node_id, seconds, failure if node_id == gpu_nodes[0] else None)
                    self.executed.append(node_id)
                    new_cache[signature[node_id]] = ui
                if ui is not None:
                    outputs[node_id] = ui
                    await self.emit("executed", {"node": node_id, "display_node": node_id, "output": ui,
                                                 "prompt_id": prompt_id})
                if node_id not in cached:
                    await self.progress_state(node_id, 1.0, 1.0, "finished")
            await self.emit("execution_success", {"prompt_id": prompt_id, "timestamp": _ms()})
        except NodeFailure as failure_:
            status = "error"
            await self.emit("execution_error", self.error_data(current, failure_))
        except Interrupted:
            status = "interrupted"
            await self.emit("execution_interrupted", {
                "prompt_id": prompt_id, "node_id": current, "node_type": self.prompt[current]["class_type"],
                "executed": list(self.executed), "timestamp": _ms()})
        except asyncio.CancelledError:
            double.jobs.append(JobRecord(prompt_id, started_at, time.monotonic(), "killed"))
            raise
        double.cache = new_cache  # ComfyUI keeps what the latest prompt used, nothing older
        record = JobRecord(prompt_id, started_at, time.monotonic(), status)
        number, client_id = self.entry["number"], self.entry["client_id"]
        history = {
            "prompt": [number, prompt_id, self.prompt, {"client_id": client_id, "create_time": self.entry["created"]},
                       self.entry["outputs"]],
            "outputs": outputs if status == "success" else {},
            "status": {"status_str": "success" if status == "success" else "error",
                       "completed": status == "success", "messages": self.history_messages},
            "meta": {n: {"node_id": n, "display_node": n, "parent_node": None, "real_node_id": n} for n in outputs},
        }
        return history, record

    def error_data(self, node_id: str, failure: NodeFailure) -> dict:
        node = self.prompt[node_id]
        return {"prompt_id": self.prompt_id, "node_id": node_id, "node_type": node["class_type"],
                "executed": list(self.executed), "exception_message": failure.message,
                "exception_type": failure.exception_type,
                "traceback": ['  File "ComfyUI/execution.py", line 518, in execute\n'],
                "current_inputs": {k: [repr(v)] for k, v in node["inputs"].items() if not _is_link(v)},
                "current_outputs": self.executed + [node_id], "timestamp": _ms()}

    async def run_node(self, node_id: str, seconds: float, failure: str | None) -> dict | None:
        node = self.prompt[node_id]
        class_type, inputs = node["class_type"], node["inputs"]
        if class_type == "IPAdapterUnifiedLoader":
            # IP-Adapter looks its models up at run time, not at validation (run13).
            if not self.double.models.get("clip_vision"):
                raise NodeFailure("ClipVision model not found.\n")
            if not self.double.models.get("ipadapter"):
                raise NodeFailure("IPAdapter model not found.\n")
        reports_progress = class_type in SAMPLERS or class_type == "VHS_VideoCombine"  # VHS: per frame (run9)
        steps = (int(inputs.get("steps", 1)) if class_type in SAMPLERS
                 else upstream_shape(self.prompt, node_id)[0] if reports_progress else 1)
        for step in range(1, steps + 1):
            self.check_interrupt(node_id)
            await asyncio.sleep(seconds / steps)
            if failure and step >= max(1, steps // 2):
                raise (NodeFailure(OOM_MESSAGE, "torch.OutOfMemoryError") if failure == "oom"
                       else NodeFailure(RUNTIME_MESSAGE, "RuntimeError"))
            if reports_progress:
                await self.progress_state(node_id, step, steps, "running")
                await self.emit("progress", {"value": step, "max": steps, "prompt_id": self.prompt_id,
                                             "node": node_id})
        if class_type in ("SaveImage", "PreviewImage"):
            return {"images": await self.save_images(node_id)}
        if class_type == "VHS_VideoCombine":
            return {"gifs": [self.save_video(node_id)]}
        return None

    def _output_folder(self, prefix: str, kind: str = "output") -> tuple[Path, str, str]:
        base = self.double.folder(kind)
        normalized = os.path.normpath(prefix)
        subfolder, stem = os.path.dirname(normalized), os.path.basename(normalized)
        folder = Path(os.path.abspath(base / subfolder))
        if os.path.commonpath((str(base), str(folder))) != str(base):
            raise NodeFailure("**** ERROR: Saving image outside the output folder is not allowed.\n"
                              f" full_output_folder: {folder}\n         output_dir: {base}\n"
                              f"         commonpath: {os.path.commonpath((str(base), str(folder)))}\n")
        folder.mkdir(parents=True, exist_ok=True)
        return folder, subfolder, stem

    async def save_images(self, node_id: str) -> list[dict]:
        node = self.prompt[node_id]
        kind = "temp" if node["class_type"] == "PreviewImage" else "output"
        prefix = str(node["inputs"].get("filename_prefix", "ComfyUI_temp_preview" if kind == "temp" else "ComfyUI"))
        folder, subfolder, stem = self._output_folder(prefix, kind)
        batch, _, _ = upstream_shape(self.prompt, node_id)
        counter = next_counter(folder, stem)
        saved = []
        for index in range(batch):
            name = f"{stem}_{counter + index:05d}_.png"
            # ComfyUI encodes in its prompt worker thread while its server keeps answering: a render
            # on this loop would hold /history, /view and POST /prompt behind every image.
            picture = await asyncio.to_thread(self._picture, index, kind)
            (folder / name).write_bytes(picture)
            saved.append({"filename": name, "subfolder": subfolder, "type": kind})
        return saved

    def _picture(self, index: int, kind: str) -> bytes:
        picture = self.double.render(self.prompt, self.prompt_id, index)
        if kind == "output":
            # SaveImage embeds the prompt (PreviewImage does not): the same pixels saved by two runs
            # never share a sha256, only a perceptual hash sees they are the same.
            picture = with_text(picture, "prompt", json.dumps(self.prompt))
        return picture

    def save_video(self, node_id: str) -> dict:
        inputs = self.prompt[node_id]["inputs"]
        video_format = str(inputs.get("format", "image/gif"))
        extension = {"video/ProRes": "mov"}.get(video_format, video_format.split("/")[-1].split("-")[-1])
        folder, subfolder, stem = self._output_folder(str(inputs.get("filename_prefix", "AnimateDiff")))
        counter = next_counter(folder, stem)
        name, still = f"{stem}_{counter:05d}.{extension}", f"{stem}_{counter:05d}.png"
        (folder / name).write_bytes(self.double.render_video(self.prompt, self.prompt_id, 0))
        (folder / still).write_bytes(self.double.render(self.prompt, self.prompt_id, 0))
        return {"filename": name, "subfolder": subfolder, "type": "output", "format": video_format,
                "frame_rate": float(inputs.get("frame_rate", 8)), "workflow": still, "fullpath": str(folder / name)}
