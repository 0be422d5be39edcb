"""400 bodies of POST /prompt, shaped like the captured err_*.txt and run3 fixtures."""

from __future__ import annotations

from comfy_graphs.validate import WorkflowError

# Our validator's messages -> ComfyUI's error type and message.
_KINDS = [
    ("required input is missing", "required_input_missing", "Required input is missing"),
    ("not in list", "value_not_in_list", "Value not in list"),
    ("smaller than min", "value_smaller_than_min", None),
    ("bigger than max", "value_bigger_than_max", None),
    ("mismatch input_type", "return_type_mismatch", "Return type mismatch between linked nodes"),
    ("links to missing node", "exception_during_validation", "Exception when validating node"),
    ("is not", "invalid_input_type", "Failed to convert an input value"),
]


def _node_error(error: WorkflowError) -> dict:
    for marker, kind, message in _KINDS:
        if marker in error.message:
            return {"type": kind, "message": message or error.message.capitalize(),
                    "details": f"{error.input}: {error.message}", "extra_info": {"input_name": error.input}}
    return {"type": "invalid_input", "message": error.message, "details": error.input,
            "extra_info": {"input_name": error.input}}


def validation_error_body(workflow: dict, errors: list[WorkflowError]) -> dict:
    unknown = next((e for e in errors if "does not exist" in e.message), None)
    if unknown:
        return {"error": {"type": "invalid_prompt",
                          "message": f"Cannot execute because node {unknown.class_type} does not exist.",
                          "details": f"Node ID '#{unknown.node_id}'", "extra_info": {}}, "node_errors": {}}
    if any(e.message == "the workflow has no output node" for e in errors):
        return {"error": {"type": "prompt_no_outputs", "message": "Prompt has no outputs", "details": "",
                          "extra_info": {}}, "node_errors": {}}
    node_errors: dict[str, dict] = {}
    for error in errors:
        node = node_errors.setdefault(error.node_id, {"errors": [], "dependent_outputs": [],
                                                      "class_type": error.class_type})
        node["errors"].append(_node_error(error))
    first = errors[0]
    return {"error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
                      "details": f"{first.input}: {first.message}", "extra_info": {}},
            "node_errors": node_errors}
