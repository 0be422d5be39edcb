"""POST /prompt validation as ComfyUI 0.8 runs it (execution.validate_prompt), with its 400 bodies.

Written from the server's algorithm and checked against err_*.txt and run3, not built on
comfy_graphs/validate.py: a double that shared the client's validator would share its bugs.
Only the nodes an output depends on are checked; top-level `details` lists the output nodes'
own errors, so an upstream cause (run3's missing checkpoint) appears only in `node_errors`.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Callable


def _prompt_error(kind: str, message: str, details: str = "") -> dict:
    return {"type": kind, "message": message, "details": details, "extra_info": {}}


def _types_match(received, expected) -> bool:
    if received == expected:
        return True
    if not isinstance(received, str) or not isinstance(expected, str):
        return False
    got, want = {t.strip() for t in received.split(",")}, {t.strip() for t in expected.split(",")}
    return "*" in got or "*" in want or bool(got & want)


class _Validator:
    def __init__(self, prompt: dict, object_info: dict, input_file_exists: Callable[[str], bool]):
        self.prompt, self.object_info, self.input_file_exists = prompt, object_info, input_file_exists
        self.validated: dict[str, tuple[bool, list]] = {}

    def node(self, node_id: str) -> tuple[bool, list]:
        if node_id in self.validated:
            return self.validated[node_id]
        node = self.prompt[node_id]
        info = self.object_info[node["class_type"]]["input"]
        required, optional = info.get("required", {}), info.get("optional", {})
        inputs = node.get("inputs", {})
        errors: list[dict] = []
        valid = True
        names = [n for n in inputs if n in required or n in optional] + [n for n in required if n not in inputs]
        for name in names:
            spec = required.get(name) or optional[name]
            input_type, extra = spec[0], (spec[1] if len(spec) > 1 else {})
            config = [input_type, extra]
            if name not in inputs:
                errors.append({"type": "required_input_missing", "message": "Required input is missing",
                               "details": name, "extra_info": {"input_name": name}})
                continue
            value = inputs[name]
            if isinstance(value, list):
                linked_ok = self._link(node_id, name, input_type, config, value, errors)
                valid = valid and linked_ok
            else:
                self._value(node["class_type"], name, input_type, extra, config, value, errors)
        result = (not errors and valid, errors)
        self.validated[node_id] = result
        return result

    def _link(self, node_id, name, input_type, config, link, errors) -> bool:
        if len(link) != 2:
            errors.append({"type": "bad_linked_input",
                           "message": "Bad linked input, must be a length-2 list of [node_id, slot_index]",
                           "details": name, "extra_info": {"input_name": name, "input_config": config,
                                                           "received_value": link}})
            return True
        source_id, slot = link
        # KeyError / IndexError escape to the caller on purpose: ComfyUI reports them as exceptions.
        source_class = self.prompt[source_id]["class_type"]
        received = tuple(self.object_info[source_class]["output"])[slot]
        expected = "COMBO" if isinstance(input_type, list) else input_type
        if not _types_match(received, expected):
            details = f"{name}, received_type({received}) mismatch input_type({expected})"
            errors.append({"type": "return_type_mismatch", "message": "Return type mismatch between linked nodes",
                           "details": details, "extra_info": {"input_name": name, "input_config": config,
                                                              "received_type": received, "linked_node": link}})
            return True
        try:
            return self.node(source_id)[0]
        except Exception as exc:  # noqa: BLE001 - mirrors ComfyUI's "inner node" handler
            self.validated[source_id] = (False, [{
                "type": "exception_during_validation", "message": "Exception when validating inner node",
                "details": str(exc), "extra_info": {
                    "input_name": name, "input_config": config, "exception_message": str(exc),
                    "exception_type": type(exc).__name__, "traceback": traceback.format_tb(exc.__traceback__),
                    "linked_node": link}}])
            return False

    def _value(self, class_type, name, input_type, extra, config, value, errors) -> None:
        convert = {"INT": int, "FLOAT": float, "STRING": str, "BOOLEAN": bool}.get(input_type) \
            if isinstance(input_type, str) else None
        if convert is not None:
            try:
                value = convert(value)  # ComfyUI coerces: "5" and 5.7 are valid INTs
            except Exception as exc:  # noqa: BLE001
                errors.append({"type": "invalid_input_type",
                               "message": f"Failed to convert an input value to a {input_type} value",
                               "details": f"{name}, {value}, {exc}",
                               "extra_info": {"input_name": name, "input_config": config,
                                              "received_value": value, "exception_message": str(exc)}})
                return
        if class_type == "LoadImage" and name == "image":
            # LoadImage has its own VALIDATE_INPUTS: the file must be in input/ (uploaded first).
            if not self.input_file_exists(str(value)):
                errors.append({"type": "custom_validation_failed", "message": "Custom validation failed for node",
                               "details": f"{name} - Invalid image file: {value}",
                               "extra_info": {"input_name": name, "input_config": config,
                                              "received_value": value}})
            return
        for bound, kind, word in (("min", "value_smaller_than_min", "smaller"),
                                  ("max", "value_bigger_than_max", "bigger")):
            if bound in extra and isinstance(value, (int, float)) and (
                    value < extra[bound] if bound == "min" else value > extra[bound]):
                errors.append({"type": kind, "message": f"Value {value} {word} than {bound} of {extra[bound]}",
                               "details": name, "extra_info": {"input_name": name, "input_config": config,
                                                               "received_value": value}})
                return
        options = input_type if isinstance(input_type, list) else (
            extra.get("options", []) if input_type == "COMBO" else None)
        if options is not None and value not in options:
            # ComfyUI does not echo long model lists back.
            listed, shown = (f"(list of length {len(options)})", None) if len(options) > 20 else (str(options), config)
            errors.append({"type": "value_not_in_list", "message": "Value not in list",
                           "details": f"{name}: '{value}' not in {listed}",
                           "extra_info": {"input_name": name, "input_config": shown, "received_value": value}})


def validate_prompt(prompt: dict, object_info: dict,
                    input_file_exists: Callable[[str], bool] = lambda name: True) -> tuple[dict | None, list, dict]:
    """(error or None, output node ids that will run, node_errors) — the 400 body is {error, node_errors}."""
    for node_id, node in prompt.items():
        if "class_type" not in node:
            return _prompt_error("invalid_prompt", "Cannot execute because a node is missing the class_type "
                                 "property.", f"Node ID '#{node_id}'"), [], {}
        if node["class_type"] not in object_info:
            return _prompt_error("invalid_prompt", f"Cannot execute because node {node['class_type']} does not "
                                 "exist.", f"Node ID '#{node_id}'"), [], {}
    outputs = [n for n, node in prompt.items() if object_info[node["class_type"]].get("output_node")]
    if not outputs:
        return _prompt_error("prompt_no_outputs", "Prompt has no outputs"), [], {}
    validator = _Validator(prompt, object_info, input_file_exists)
    good, failed, node_errors = [], [], {}
    for output in outputs:
        try:
            ok, reasons = validator.node(output)
        except Exception as exc:  # noqa: BLE001 - ComfyUI turns any crash into a node error
            ok, reasons = False, [{"type": "exception_during_validation", "message": "Exception when validating node",
                                   "details": str(exc), "extra_info": {
                                       "exception_type": type(exc).__name__,
                                       "traceback": traceback.format_tb(exc.__traceback__)}}]
            validator.validated[output] = (False, reasons)
        if ok:
            good.append(output)
            continue
        if reasons:
            failed.append(reasons)
        for node_id, (node_ok, node_reasons) in validator.validated.items():
            if not node_ok and node_reasons:
                entry = node_errors.setdefault(node_id, {"errors": node_reasons, "dependent_outputs": [],
                                                         "class_type": prompt[node_id]["class_type"]})
                entry["dependent_outputs"].append(output)
    if not good:
        details = "\n".join(f"{r['message']}: {r['details']}" for reasons in failed for r in reasons)
        return _prompt_error("prompt_outputs_failed_validation", "Prompt outputs failed validation", details), \
            [], node_errors
    return None, good, node_errors


def input_exists(input_dir: Path) -> Callable[[str], bool]:
    def exists(name: str) -> bool:
        path = (input_dir / name).resolve()
        return path.is_relative_to(input_dir.resolve()) and path.is_file()
    return exists
