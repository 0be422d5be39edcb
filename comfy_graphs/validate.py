"""Checking a workflow against a ComfyUI `object_info` document before it is sent.

The same checks ComfyUI runs on POST /prompt (see the err_*.txt fixtures), so a bad graph or a
missing model is found here with node, input and reason instead of as a 400 mid-batch.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkflowError:
    node_id: str
    class_type: str
    input: str
    message: str

    def __str__(self) -> str:
        where = f"node {self.node_id} ({self.class_type})" + (f" input {self.input}" if self.input else "")
        return f"{where}: {self.message}"


def _is_link(value) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], int)


def _combo_options(spec: list) -> list | None:
    kind = spec[0]
    if isinstance(kind, list):
        return kind
    if kind == "COMBO":
        return (spec[1] if len(spec) > 1 else {}).get("options", [])
    return None


def _check_value(node_id, class_type, name, spec, value) -> list[WorkflowError]:
    def err(message):
        return [WorkflowError(node_id, class_type, name, message)]

    kind, options = spec[0], (spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {})
    choices = _combo_options(spec)
    if choices is not None:
        # Upload inputs (LoadImage) list the files present when object_info was read; uploads add more.
        if options.get("image_upload") and isinstance(value, str):
            return []
        return [] if value in choices else err(f"value {value!r} not in list")
    if kind == "INT":
        if isinstance(value, bool) or not isinstance(value, int):
            return err(f"{value!r} is not an integer")
    elif kind == "FLOAT":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return err(f"{value!r} is not a number")
    elif kind == "STRING":
        return [] if isinstance(value, str) else err(f"{value!r} is not a string")
    elif kind == "BOOLEAN":
        return [] if isinstance(value, bool) else err(f"{value!r} is not a boolean")
    else:
        return err(f"expects a link to a {kind} output, got a value")
    if "min" in options and value < options["min"]:
        return err(f"value {value} smaller than min of {options['min']}")
    if "max" in options and value > options["max"]:
        return err(f"value {value} bigger than max of {options['max']}")
    return []


def validate_workflow(workflow: dict, object_info: dict) -> list[WorkflowError]:
    errors: list[WorkflowError] = []
    has_output = False
    for node_id, node in workflow.items():
        class_type = node.get("class_type", "")
        info = object_info.get(class_type)
        if info is None:
            errors.append(WorkflowError(node_id, class_type, "", f"node type {class_type!r} does not exist"))
            continue
        has_output = has_output or bool(info.get("output_node"))
        inputs = node.get("inputs", {})
        declared = {**info["input"].get("optional", {}), **info["input"].get("required", {})}
        for name in info["input"].get("required", {}):
            if name not in inputs:
                errors.append(WorkflowError(node_id, class_type, name, "required input is missing"))
        for name, value in inputs.items():
            spec = declared.get(name)
            if spec is None:
                errors.append(WorkflowError(node_id, class_type, name, "unknown input"))
            elif _is_link(value):
                errors += _check_link(workflow, object_info, node_id, class_type, name, spec, value)
            else:
                errors += _check_value(node_id, class_type, name, spec, value)
    if workflow and not has_output:
        errors.append(WorkflowError("", "", "", "the workflow has no output node"))
    return errors


def _check_link(workflow, object_info, node_id, class_type, name, spec, link) -> list[WorkflowError]:
    source_id, index = link
    source = workflow.get(source_id)
    if source is None:
        return [WorkflowError(node_id, class_type, name, f"links to missing node {source_id!r}")]
    source_info = object_info.get(source.get("class_type", ""))
    if source_info is None:
        return []  # reported on the source node itself
    outputs = source_info.get("output", [])
    if not 0 <= index < len(outputs):
        return [WorkflowError(node_id, class_type, name, f"node {source_id!r} has no output {index}")]
    expected = spec[0] if isinstance(spec[0], str) else "COMBO"
    received = outputs[index]
    if expected != received and "*" not in (expected, received):
        return [WorkflowError(node_id, class_type, name,
                              f"received_type({received}) mismatch input_type({expected})")]
    return []
