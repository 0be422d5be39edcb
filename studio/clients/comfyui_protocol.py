"""What ComfyUI sends back, as types: outputs, finished runs, and the ways a prompt fails.

Shapes follow the responses captured from a real ComfyUI 0.8.0 (shared/fixtures/comfyui/).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from comfy_graphs.validate import WorkflowError

# torch says "CUDA out of memory" (torch.OutOfMemoryError); other backends say "allocation on device".
OOM_MARKERS = ("out of memory", "outofmemoryerror", "allocation on device")


@dataclass(frozen=True)
class ComfyOutput:
    node_id: str
    filename: str
    subfolder: str
    type: str  # output | temp | input: which folder /view reads
    kind: Literal["images", "gifs"]  # VideoHelperSuite reports videos under "gifs"


@dataclass
class ComfyRun:
    prompt_id: str
    server_url: str
    outputs: list[ComfyOutput]
    gpu_seconds: float
    attempts: int = 1
    # Nodes ComfyUI reused from its cache; if the output node is among them the files are OLD ones (run2).
    cached_nodes: list[str] = field(default_factory=list)


class ComfyError(RuntimeError):
    # Callers running many jobs stop at a permanent error: it would repeat for every job.
    permanent = False


class ComfyValidationError(ComfyError):
    """400 from POST /prompt: a bug in the workflow or a missing model. Retrying cannot help."""

    permanent = True

    def __init__(self, message: str, problems: list[WorkflowError]):
        self.problems = problems
        super().__init__(message + ("; " + "; ".join(map(str, problems)) if problems else ""))


class ComfyExecutionError(ComfyError):
    """The prompt failed while running (execution_error)."""

    def __init__(self, node_id: str, node_type: str, message: str, exception_type: str = ""):
        self.node_id, self.node_type, self.message, self.exception_type = node_id, node_type, message, exception_type
        first_line = message.strip().splitlines()[0] if message.strip() else exception_type
        super().__init__(f"node {node_id} ({node_type}) failed: {first_line}")

    @property
    def out_of_memory(self) -> bool:
        text = f"{self.exception_type} {self.message}".lower()
        return any(marker in text for marker in OOM_MARKERS)


class ComfyInterruptedError(ComfyError):
    """Someone (POST /interrupt, or our own run timeout) stopped the prompt."""

    def __init__(self, node_id: str, node_type: str):
        self.node_id, self.node_type = node_id, node_type
        super().__init__(f"interrupted at node {node_id} ({node_type})")


class ComfyTimeoutError(ComfyError):
    def __init__(self, stage: str, seconds: float, server_url: str = ""):
        self.stage = stage
        super().__init__(f"ComfyUI {stage} took longer than {seconds:g}s" + (f" on {server_url}" if server_url else ""))


class ComfyUnavailableError(ComfyError):
    pass


class ComfyUnreachableError(ComfyUnavailableError):
    """Nothing answers at the server's address (connection refused, no route): every job would fail alike."""

    permanent = True

    def __init__(self, server_url: str, reason: str):
        self.server_url = server_url
        super().__init__(f"ComfyUI at {server_url} is not reachable ({reason}): start ComfyUI there, or point "
                         "STUDIO_COMFYUI_URLS at it; `studio doctor` checks the set-up")


class ComfySetupError(ComfyError):
    """The server lacks what the workflow needs (a node, a model file): found before any job is sent."""

    permanent = True

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def parse_validation_error(body: dict) -> ComfyValidationError:
    """A 400 body: the cause is in node_errors (top-level details may be empty, run3)."""
    error = body.get("error") or {}
    if not isinstance(error, dict):
        error = {"message": str(error)}
    message = error.get("message") or "ComfyUI refused the prompt"
    problems = []
    for node_id, node in (body.get("node_errors") or {}).items():
        for item in node.get("errors", []):
            detail = item.get("details", "")
            problems.append(WorkflowError(node_id, node.get("class_type", ""),
                                          (item.get("extra_info") or {}).get("input_name", ""),
                                          item.get("message", "") + (f" ({detail})" if detail else "")))
    if not problems and error.get("details"):
        message = f"{message} ({error['details']})"  # e.g. unknown class_type: "Node ID '#1'"
    return ComfyValidationError(message, problems)


def outputs_of(history_entry: dict) -> list[ComfyOutput]:
    outputs = []
    for node_id, produced in (history_entry.get("outputs") or {}).items():
        for kind in ("images", "gifs"):
            for item in produced.get(kind, []):
                outputs.append(ComfyOutput(node_id, item["filename"], item.get("subfolder", ""),
                                           item.get("type", "output"), kind))
    return outputs


def status_messages(history_entry: dict) -> dict[str, dict]:
    return {name: data for name, data in (history_entry.get("status") or {}).get("messages", [])}


def gpu_seconds_between(start: dict | None, success: dict | None) -> float | None:
    """execution_start -> execution_success, from the server's millisecond timestamps."""
    if not start or not success or "timestamp" not in start or "timestamp" not in success:
        return None
    return max(0.0, (success["timestamp"] - start["timestamp"]) / 1000.0)


def failure_of(kind: str, data: dict) -> ComfyError:
    if kind == "execution_interrupted":
        return ComfyInterruptedError(str(data.get("node_id", "?")), str(data.get("node_type", "?")))
    return ComfyExecutionError(str(data.get("node_id", "?")), str(data.get("node_type", "?")),
                               str(data.get("exception_message") or "execution failed"),
                               str(data.get("exception_type") or ""))


def failure_in_history(history_entry: dict) -> ComfyError | None:
    status = history_entry.get("status") or {}
    if status.get("status_str") != "error":
        return None
    messages = status_messages(history_entry)
    for kind in ("execution_error", "execution_interrupted"):
        if kind in messages:
            return failure_of(kind, messages[kind])
    return ComfyExecutionError("?", "?", "ComfyUI reported an error without details")
