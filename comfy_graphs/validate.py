"""Checking a workflow against a ComfyUI `object_info` document before it is sent.

The same checks ComfyUI runs on POST /prompt (see the err_*.txt fixtures), so a bad graph or a
missing model is found here with node, input and reason instead of as a 400 mid-batch.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkflowError:
    """One problem in a workflow, found here or reported by ComfyUI (studio.clients.comfyui_protocol)."""

    node_id: str  # empty for the workflow as a whole ("no output node")
    class_type: str
    input: str
    message: str

    def __str__(self) -> str:
        if not self.node_id:
            return self.message
        where = f"node {self.node_id}" + (f" ({self.class_type})" if self.class_type else "")
        return where + (f" input {self.input}" if self.input else "") + f": {self.message}"


def _is_link(value) -> bool:
    return (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
            and isinstance(value[1], int) and not isinstance(value[1], bool))


def _combo_choices(spec: list) -> list | None:
    """The allowed values of an enum input, or None when the input is not an enum.

    object_info has two shapes: classic nodes give the list itself as the type
    (`[["a", "b"], {...}]`); v3 nodes give `["COMBO", {"options": [...]}]`.
    """
    kind = spec[0]
    if isinstance(kind, list):
        return kind
    if kind == "COMBO":
        return _spec_options(spec).get("options", [])
    return None


def _spec_options(spec: list) -> dict:
    return spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}


def _input_type(spec: list) -> str:
    return "COMBO" if isinstance(spec[0], list) else spec[0]


def validate_workflow(workflow: dict, object_info: dict) -> list[WorkflowError]:
    """Every problem ComfyUI would reject the workflow for; an empty list means it is sendable."""
    errors: list[WorkflowError] = []
    has_output = False
    for node_id, node in workflow.items():
        class_type = node.get("class_type") if isinstance(node, dict) else None
        if not class_type:
            errors.append(WorkflowError(node_id, "", "", "node has no class_type"))
            continue
        info = object_info.get(class_type)
        if info is None:
            errors.append(WorkflowError(node_id, class_type, "", f"node type {class_type!r} does not exist"))
            continue
        has_output = has_output or bool(info.get("output_node"))
        errors += _check_inputs(workflow, object_info, node_id, class_type, info, node.get("inputs", {}))
    if not has_output:
        errors.append(WorkflowError("", "", "", "the workflow has no output node"))
    return errors


def _check_inputs(workflow, object_info, node_id, class_type, info, inputs) -> list[WorkflowError]:
    declared_inputs = info.get("input", {})
    required = declared_inputs.get("required", {})
    declared = {**declared_inputs.get("optional", {}), **required}
    errors = [WorkflowError(node_id, class_type, name, "required input is missing")
              for name in required if name not in inputs]
    for name, value in inputs.items():
        spec = declared.get(name)
        # ComfyUI ignores inputs it does not declare, and some nodes accept more than they declare
        # (VHS_VideoCombine adds crf, pix_fmt... per chosen format), so they are not errors.
        if spec is None:
            continue
        if _is_link(value):
            errors += _check_link(workflow, object_info, node_id, class_type, name, spec, value)
        else:
            errors += _check_value(node_id, class_type, name, spec, value)
    return errors


def _check_value(node_id, class_type, name, spec, value) -> list[WorkflowError]:
    def err(message):
        return [WorkflowError(node_id, class_type, name, message)]

    kind, options = _input_type(spec), _spec_options(spec)
    choices = _combo_choices(spec)
    if choices is not None:
        # Upload inputs (LoadImage) list only the files present when object_info was read;
        # images we upload later are valid too, so only the type is checked.
        if options.get("image_upload"):
            return [] if isinstance(value, str) else err(f"{value!r} is not a file name")
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


def _check_link(workflow, object_info, node_id, class_type, name, spec, link) -> list[WorkflowError]:
    def err(message):
        return [WorkflowError(node_id, class_type, name, message)]

    source_id, index = link
    source = workflow.get(source_id)
    if source is None:
        return err(f"links to missing node {source_id!r}")
    source_info = object_info.get(source.get("class_type", "") if isinstance(source, dict) else "")
    if source_info is None:
        return []  # reported on the source node itself
    outputs = source_info.get("output", [])
    if not 0 <= index < len(outputs):
        return err(f"node {source_id!r} has no output {index}")
    expected, received = _input_type(spec), outputs[index]
    # "*" is ComfyUI's wildcard type: it matches anything, on either side.
    if expected != received and "*" not in (expected, received):
        return err(f"received_type({received}) mismatch input_type({expected})")
    return []
