"""Workflows built by comfy_graphs/ against the object_info captured from a real ComfyUI."""

import copy
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from comfy_graphs.hashing import workflow_hash
from comfy_graphs.params import IPAdapterReference, LoraParams, Txt2ImgParams
from comfy_graphs.txt2img import build_txt2img_workflow
from comfy_graphs.validate import validate_workflow

COMFY_FIXTURES = Path(__file__).resolve().parents[2] / "shared/fixtures/comfyui"
OBJECT_INFO = json.loads((COMFY_FIXTURES / "object_info.json").read_text())
CKPT, LORA = "tiny-random-sd15.safetensors", "tiny-random-lora.safetensors"


def params(**overrides) -> Txt2ImgParams:
    base = dict(checkpoint=CKPT, positive="anime girl, yellow raincoat", negative="lowres", seed=7,
                steps=20, cfg=6.5, sampler_name="euler_ancestral", scheduler="normal", width=512, height=768)
    return Txt2ImgParams(**{**base, **overrides})


VARIANTS = {
    "plain": params(),
    "lora": params(lora=LoraParams(name=LORA, strength_model=0.8, strength_clip=0.8)),
    "one reference": params(reference=IPAdapterReference(images=["ref_1.png"])),
    "two references": params(reference=IPAdapterReference(images=["ref_1.png", "ref_2.png"])),
    "two references with lora": params(lora=LoraParams(name=LORA),
                                       reference=IPAdapterReference(images=["ref_1.png", "ref_2.png"])),
}


def errors_of(workflow: dict) -> list[tuple[str, str, str]]:
    return [(e.node_id, e.input, e.message) for e in validate_workflow(workflow, OBJECT_INFO)]


# --- the builder -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", VARIANTS)
def test_every_built_workflow_validates_against_real_object_info(name):
    assert errors_of(build_txt2img_workflow(VARIANTS[name])) == []


def test_plain_workflow_is_the_classic_chain():
    workflow = build_txt2img_workflow(VARIANTS["plain"])
    assert {n: node["class_type"] for n, node in workflow.items()} == {
        "checkpoint": "CheckpointLoaderSimple", "positive": "CLIPTextEncode", "negative": "CLIPTextEncode",
        "latent": "EmptyLatentImage", "sampler": "KSampler", "decode": "VAEDecode", "save": "SaveImage",
    }
    sampler = workflow["sampler"]["inputs"]
    assert sampler["model"] == ["checkpoint", 0]
    assert (sampler["seed"], sampler["steps"], sampler["cfg"], sampler["sampler_name"]) == (7, 20, 6.5,
                                                                                           "euler_ancestral")
    assert workflow["positive"]["inputs"]["text"] == "anime girl, yellow raincoat"
    assert workflow["negative"]["inputs"]["text"] == "lowres"
    assert workflow["decode"]["inputs"]["vae"] == ["checkpoint", 2]
    assert (workflow["latent"]["inputs"]["width"], workflow["latent"]["inputs"]["height"]) == (512, 768)


def test_lora_sits_between_checkpoint_and_sampler():
    workflow = build_txt2img_workflow(VARIANTS["lora"])
    assert workflow["lora"]["inputs"]["model"] == ["checkpoint", 0]
    assert workflow["lora"]["inputs"]["strength_model"] == 0.8
    assert workflow["sampler"]["inputs"]["model"] == ["lora", 0]
    assert workflow["positive"]["inputs"]["clip"] == ["lora", 1]
    assert workflow["negative"]["inputs"]["clip"] == ["lora", 1]


def test_ipadapter_uses_seed_weights_and_feeds_the_sampler():
    workflow = build_txt2img_workflow(VARIANTS["one reference"])
    adapter = workflow["ipadapter_1"]["inputs"]
    assert (adapter["weight"], adapter["end_at"]) == (0.7, 0.85)
    assert adapter["model"] == ["ipadapter_loader", 0]
    assert workflow["ipadapter_loader"]["inputs"]["model"] == ["checkpoint", 0]
    assert workflow["sampler"]["inputs"]["model"] == ["ipadapter_1", 0]
    assert workflow["reference_1"]["inputs"]["image"] == "ref_1.png"


def test_several_references_are_chained_after_the_lora_sharing_the_weight():
    workflow = build_txt2img_workflow(VARIANTS["two references with lora"])
    assert workflow["ipadapter_loader"]["inputs"]["model"] == ["lora", 0]
    assert workflow["ipadapter_1"]["inputs"]["image"] == ["reference_1", 0]
    assert workflow["ipadapter_2"]["inputs"]["image"] == ["reference_2", 0]
    assert workflow["ipadapter_2"]["inputs"]["model"] == ["ipadapter_1", 0]
    assert workflow["sampler"]["inputs"]["model"] == ["ipadapter_2", 0]
    weights = [workflow[f"ipadapter_{i}"]["inputs"]["weight"] for i in (1, 2)]
    assert weights == [0.35, 0.35]


def test_builder_is_deterministic_and_the_hash_follows_content():
    a, b = build_txt2img_workflow(VARIANTS["lora"]), build_txt2img_workflow(VARIANTS["lora"])
    assert json.dumps(a) == json.dumps(b) and workflow_hash(a) == workflow_hash(b)
    assert len(workflow_hash(a)) == 64
    assert workflow_hash(build_txt2img_workflow(params(seed=8))) != workflow_hash(build_txt2img_workflow(params()))


def test_hash_ignores_key_order():
    workflow = build_txt2img_workflow(VARIANTS["plain"])
    reordered = dict(reversed(list(workflow.items())))
    assert workflow_hash(reordered) == workflow_hash(workflow)


# --- the validator, mirroring the 400s a real ComfyUI gave (err_*.txt) -------------------------

def comfy_node_errors(fixture: str) -> set[tuple[str, str]]:
    """(node id, input name) pairs ComfyUI reported in one captured 400 answer."""
    answer = json.loads((COMFY_FIXTURES / fixture).read_text().split("\nHTTP")[0])
    return {(node_id, e.get("extra_info", {}).get("input_name", ""))
            for node_id, node in answer["node_errors"].items() for e in node["errors"]}


def test_bad_values_and_missing_inputs_as_comfyui_reports_them():
    workflow = {"1": {"class_type": "EmptyImage", "inputs": {"width": 0, "height": "abc", "batch_size": 1}},
                "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}}
    errors = errors_of(workflow)
    assert {(node, name) for node, name, _ in errors} == comfy_node_errors("err_bad_values_missing_inputs.txt")
    assert ("1", "width", "value 0 smaller than min of 1") in errors
    assert ("1", "height", "'abc' is not an integer") in errors
    assert ("1", "color", "required input is missing") in errors
    assert ("2", "filename_prefix", "required input is missing") in errors


def test_type_mismatch_as_comfyui_reports_it():
    workflow = {"1": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
                "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}}}
    assert errors_of(workflow) == [("2", "images", "received_type(LATENT) mismatch input_type(IMAGE)")]
    assert {("2", "images")} == comfy_node_errors("err_type_mismatch.txt")


def test_dangling_link_as_comfyui_reports_it():
    workflow = {"2": {"class_type": "SaveImage", "inputs": {"images": ["9", 0], "filename_prefix": "x"}}}
    assert errors_of(workflow) == [("2", "images", "links to missing node '9'")]
    assert "'9'" in (COMFY_FIXTURES / "err_bad_link.txt").read_text()


def test_no_output_node_as_comfyui_reports_it():
    workflow = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}}}
    assert errors_of(workflow) == [("", "", "the workflow has no output node")]
    assert "prompt_no_outputs" in (COMFY_FIXTURES / "err_no_outputs.txt").read_text()


def test_unknown_class_type_as_comfyui_reports_it():
    # The captured 400 came from a server without the FramePack wrapper: validate against the same.
    info_without = {k: v for k, v in OBJECT_INFO.items() if k != "FramePackSampler"}
    workflow = {"1": {"class_type": "FramePackSampler", "inputs": {}},
                "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}
    errors = [(e.node_id, e.message) for e in validate_workflow(workflow, info_without)]
    assert errors == [("1", "node type 'FramePackSampler' does not exist")]
    assert "node FramePackSampler does not exist" in (COMFY_FIXTURES / "err_unknown_class_type.txt").read_text()


def broken(mutate) -> list[tuple[str, str, str]]:
    workflow = copy.deepcopy(build_txt2img_workflow(VARIANTS["one reference"]))
    mutate(workflow)
    return errors_of(workflow)


@pytest.mark.parametrize("mutate,expected", [
    (lambda w: w["sampler"].update(class_type="KSamplerX"), ("sampler", "", "node type 'KSamplerX' does not exist")),
    (lambda w: w["save"]["inputs"].pop("filename_prefix"), ("save", "filename_prefix", "required input is missing")),
    (lambda w: w["checkpoint"]["inputs"].update(ckpt_name="v1-5.safetensors"),
     ("checkpoint", "ckpt_name", "value 'v1-5.safetensors' not in list")),
    (lambda w: w["sampler"]["inputs"].update(sampler_name="euler_b"),
     ("sampler", "sampler_name", "value 'euler_b' not in list")),
    (lambda w: w["ipadapter_loader"]["inputs"].update(preset="ULTRA"),
     ("ipadapter_loader", "preset", "value 'ULTRA' not in list")),
    (lambda w: w["latent"]["inputs"].update(width=0), ("latent", "width", "value 0 smaller than min of 16")),
    (lambda w: w["sampler"]["inputs"].update(cfg=101.0), ("sampler", "cfg", "value 101.0 bigger than max of 100.0")),
    (lambda w: w["ipadapter_1"]["inputs"].update(end_at=1.5), ("ipadapter_1", "end_at",
                                                                  "value 1.5 bigger than max of 1.0")),
    (lambda w: w["sampler"]["inputs"].update(steps=20.5), ("sampler", "steps", "20.5 is not an integer")),
    (lambda w: w["sampler"]["inputs"].update(steps=True), ("sampler", "steps", "True is not an integer")),
    (lambda w: w["positive"]["inputs"].update(text=3), ("positive", "text", "3 is not a string")),
    (lambda w: w["sampler"]["inputs"].update(model="checkpoint"),
     ("sampler", "model", "expects a link to a MODEL output, got a value")),
    (lambda w: w["decode"]["inputs"].update(vae=["checkpoint", 5]), ("decode", "vae", "node 'checkpoint' has no output 5")),
    (lambda w: w["sampler"]["inputs"].update(model=["checkpoint", 1]),
     ("sampler", "model", "received_type(CLIP) mismatch input_type(MODEL)")),
    (lambda w: w["ipadapter_1"]["inputs"].update(image=["latent", 0]),
     ("ipadapter_1", "image", "received_type(LATENT) mismatch input_type(IMAGE)")),
])
def test_validator_catches_each_error_class_in_a_built_workflow(mutate, expected):
    assert expected in broken(mutate)


def test_uploaded_reference_names_are_accepted_though_object_info_does_not_list_them():
    # LoadImage's list is the input folder at the time object_info was read; our uploads come later.
    assert "ref_1.png" not in OBJECT_INFO["LoadImage"]["input"]["required"]["image"][0]
    assert broken(lambda w: None) == []
    assert ("reference_1", "image", "5 is not a file name") in broken(
        lambda w: w["reference_1"]["inputs"].update(image=5))


def test_combo_given_as_COMBO_with_options_is_checked_too():
    workflow = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 2, "color": 0}},
                "2": {"class_type": "CreateVideo", "inputs": {"images": ["1", 0], "fps": 24.0}},
                "3": {"class_type": "SaveVideo", "inputs": {"video": ["2", 0], "filename_prefix": "v",
                                                            "format": "mp4", "codec": "h264"}}}
    assert OBJECT_INFO["SaveVideo"]["input"]["required"]["format"][0] == "COMBO"
    assert errors_of(workflow) == []
    workflow["3"]["inputs"]["format"] = "mkv"
    assert errors_of(workflow) == [("3", "format", "value 'mkv' not in list")]


def test_optional_inputs_are_checked_when_given_and_undeclared_ones_are_ignored():
    workflow = copy.deepcopy(build_txt2img_workflow(VARIANTS["one reference"]))
    workflow["ipadapter_1"]["inputs"]["image_negative"] = ["latent", 0]
    workflow["save"]["inputs"]["not_a_real_input"] = 1  # ComfyUI ignores these, so do we
    assert errors_of(workflow) == [("ipadapter_1", "image_negative", "received_type(LATENT) mismatch input_type(IMAGE)")]


# --- parameters --------------------------------------------------------------------------------

@pytest.mark.parametrize("field,value", [("width", 500), ("height", 8), ("steps", 0), ("seed", -1),
                                         ("checkpoint", ""), ("cfg", -1.0), ("batch_size", 0)])
def test_bad_parameters_fail_naming_the_field(field, value):
    with pytest.raises(ValidationError) as err:
        params(**{field: value})
    assert err.value.errors()[0]["loc"] == (field,)


def test_unknown_parameters_are_refused():
    with pytest.raises(ValidationError) as err:
        params(denoise=0.5)
    assert err.value.errors()[0]["loc"] == ("denoise",)


def test_reference_parameters_are_validated_with_defaults_from_the_seed_system():
    reference = IPAdapterReference(images=["a.png"])
    assert (reference.weight, reference.end_at) == (0.7, 0.85)
    with pytest.raises(ValidationError) as err:
        IPAdapterReference(images=[])
    assert err.value.errors()[0]["loc"] == ("images",)
    with pytest.raises(ValidationError) as err:
        IPAdapterReference(images=["a.png"], end_at=1.2)
    assert err.value.errors()[0]["loc"] == ("end_at",)
    with pytest.raises(ValidationError) as err:
        params(lora={"name": LORA, "strength_model": 500})
    assert err.value.errors()[0]["loc"] == ("lora", "strength_model")
