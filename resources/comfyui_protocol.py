"""What ComfyUI sends back, as types: outputs, finished runs, and its three kinds of failure.

Shapes follow the responses captured from a real ComfyUI 0.8.0 (shared/fixtures/comfyui/).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

OOM_MARKERS = ("out of memory", "outofmemoryerror", "allocation on device")


@dataclass(frozen=True)
class ComfyOutput:
    node_id: str
    filename: str
    subfolder: str
    type: str
    kind: Literal["images", "gifs"]


@dataclass
class ComfyRun:
    prompt_id: str
    server_url: str
    outputs: list[ComfyOutput]
    gpu_seconds: float
    attempts: int = 1
    cached_nodes: list[str] = field(default_factory=list)


class ComfyError(RuntimeError):
    pass


@dataclass(frozen=True)
class NodeProblem:
    node_id: str
    class_type: str
    input: str
    message: str

    def __str__(self) -> str:
        where = f"node {self.node_id}" + (f" ({self.class_type})" if self.class_type else "")
        return f"{where}" + (f" input {self.input}" if self.input else "") + f": {self.message}"


class ComfyValidationError(ComfyError):
    """400 from POST /prompt: a bug in the workflow or a missing model. Never retried."""

    def __init__(self, message: str, problems: list[NodeProblem]):
        self.problems = problems
        super().__init__(message + ("; " + "; ".join(map(str, problems)) if problems else ""))


class ComfyExecutionError(ComfyError):
    """The prompt failed while running (execution_error)."""

    def __init__(self, node_id: str, node_type: str, message: str):
        self.node_id, self.node_type, self.message = node_id, node_type, message
        super().__init__(f"node {node_id} ({node_type}) failed: {message.strip().splitlines()[0] if message else ''}")

    @property
    def out_of_memory(self) -> bool:
        return any(marker in self.message.lower() for marker in OOM_MARKERS)


class ComfyTimeoutError(ComfyError):
    def __init__(self, stage: str, seconds: float):
        self.stage = stage
        super().__init__(f"ComfyUI {stage} took longer than {seconds:g}s")


class ComfyUnavailableError(ComfyError):
    pass


def parse_validation_error(body: dict) -> ComfyValidationError:
    error = body.get("error") or {}
    message = error.get("message", "ComfyUI refused the prompt") if isinstance(error, dict) else str(error)
    problems = []
    for node_id, node in (body.get("node_errors") or {}).items():
        for item in node.get("errors", []):
            extra = item.get("extra_info") or {}
            detail = item.get("details", "")
            problems.append(NodeProblem(node_id, node.get("class_type", ""), extra.get("input_name", ""),
                                        f"{item.get('message', '')}" + (f" ({detail})" if detail else "")))
    if not problems and isinstance(error, dict) and error.get("details"):
        message = f"{message} ({error['details']})"
    return ComfyValidationError(message, problems)


def outputs_of(history_entry: dict) -> list[ComfyOutput]:
    outputs = []
    for node_id, produced in (history_entry.get("outputs") or {}).items():
        for kind in ("images", "gifs"):  # VideoHelperSuite reports videos under "gifs"
            for item in produced.get(kind, []):
                outputs.append(ComfyOutput(node_id, item["filename"], item.get("subfolder", ""),
                                           item.get("type", "output"), kind))
    return outputs


def status_messages(history_entry: dict) -> dict[str, dict]:
    return {name: data for name, data in (history_entry.get("status") or {}).get("messages", [])}


def gpu_seconds_of(history_entry: dict) -> float:
    """From execution_start to execution_success, both millisecond timestamps from the server."""
    messages = status_messages(history_entry)
    start, end = messages.get("execution_start"), messages.get("execution_success")
    if not start or not end:
        return 0.0
    return max(0.0, (end["timestamp"] - start["timestamp"]) / 1000.0)


def execution_error_of(history_entry: dict) -> ComfyExecutionError | None:
    status = history_entry.get("status") or {}
    if status.get("status_str") != "error":
        return None
    error = status_messages(history_entry).get("execution_error", {})
    return ComfyExecutionError(str(error.get("node_id", "?")), error.get("node_type", "?"),
                               error.get("exception_message", "execution failed"))
