"""How the ComfyUI double runs one prompt: the message sequence of run1/run15, errors as run4."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

OOM_MESSAGE = ("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 11.76 GiB total capacity; "
               "9.80 GiB already allocated; 1.02 GiB free)")


@dataclass
class JobRecord:
    prompt_id: str
    started: float  # time.monotonic() in this process
    finished: float
    outcome: str


def _ms() -> int:
    return int(time.time() * 1000)


async def execute_prompt(double, entry: dict) -> None:
    prompt_id, client, workflow = entry["prompt_id"], entry["client_id"], entry["prompt"]
    send = double._send
    started = time.monotonic()
    messages = [["execution_start", {"prompt_id": prompt_id, "timestamp": _ms()}],
                ["execution_cached", {"nodes": [], "prompt_id": prompt_id, "timestamp": _ms()}]]
    for kind, data in messages:
        await send(client, kind, data)
    failure = double._failures.pop(0) if double._failures else None
    outputs: dict[str, dict] = {}
    failed_at = None
    for node_id, node in workflow.items():
        await send(client, "executing", {"node": node_id, "display_node": node_id, "prompt_id": prompt_id})
        if node["class_type"] == "KSampler":
            steps = int(node["inputs"].get("steps", 1))
            for step in range(1, steps + 1):
                await asyncio.sleep(double.job_seconds / steps)
                await send(client, "progress", {"value": step, "max": steps, "prompt_id": prompt_id, "node": node_id})
            if failure:
                failed_at = (node_id, node["class_type"])
                break
        elif node["class_type"] in ("SaveImage", "VHS_VideoCombine"):
            outputs[node_id] = _save(double, workflow, node_id, node, prompt_id)
            await send(client, "executed", {"node": node_id, "display_node": node_id,
                                            "output": outputs[node_id], "prompt_id": prompt_id})
    if failed_at is None and failure:
        failed_at = next(iter(workflow.items()))[0], next(iter(workflow.values()))["class_type"]
    if failed_at:
        error = {"prompt_id": prompt_id, "node_id": failed_at[0], "node_type": failed_at[1], "executed": [],
                 "exception_message": OOM_MESSAGE if failure == "oom" else "mat1 and mat2 shapes cannot be multiplied",
                 "exception_type": "torch.OutOfMemoryError" if failure == "oom" else "RuntimeError",
                 "traceback": [], "timestamp": _ms()}
        messages.append(["execution_error", error])
        await send(client, "execution_error", error)
        status = {"status_str": "error", "completed": False, "messages": messages}
    else:
        success = {"prompt_id": prompt_id, "timestamp": _ms()}
        messages.append(["execution_success", success])
        await send(client, "execution_success", success)
        status = {"status_str": "success", "completed": True, "messages": messages}
    double.jobs.append(JobRecord(prompt_id, started, time.monotonic(), status["status_str"]))
    history_entry = {"prompt": [entry["number"], prompt_id, workflow, {"client_id": client}, entry["outputs"]],
                     "outputs": outputs, "status": status, "meta": {}}

    def publish() -> None:
        double.history[prompt_id] = history_entry

    if double.history_lag_s:
        asyncio.get_running_loop().call_later(double.history_lag_s, publish)
    else:
        publish()
    await send(client, "status", {"status": {"exec_info": {"queue_remaining": len(double.queue)}}})
    await send(client, "executing", {"node": None, "prompt_id": prompt_id})


def _save(double, workflow: dict, node_id: str, node: dict, prompt_id: str) -> dict:
    prefix = str(node["inputs"].get("filename_prefix", "ComfyUI"))
    subfolder, _, stem = prefix.rpartition("/")
    batch = next((n["inputs"].get("batch_size", 1) for n in workflow.values()
                  if n["class_type"] == "EmptyLatentImage"), 1)
    saved = []
    for index in range(batch):
        count = sum(1 for key in double.files if key[0] == "output") + 1
        name = f"{stem}_{count:05d}_.png"
        data = double.render(workflow, prompt_id, index)
        double.files[("output", subfolder, name)] = data
        if double.output_dir:
            path = double.output_dir / subfolder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        saved.append({"filename": name, "subfolder": subfolder, "type": "output"})
    key = "gifs" if node["class_type"] == "VHS_VideoCombine" else "images"
    return {key: saved}
