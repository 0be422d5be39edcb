"""Workflows built by comfy_graphs/ against the object_info captured from a real ComfyUI."""

import copy
import json

import pytest
from pydantic import ValidationError

from comfy_graphs.hashing import workflow_hash
from comfy_graphs.params import IPAdapterReference, LoraParams, Txt2ImgParams
from comfy_graphs.txt2img import build_txt2img_workflow
from comfy_graphs.validate import validate_workflow
from tests.conftest import FIXTURES

OBJECT_INFO = json.loads((FIXTURES / "comfyui" / "object_info.json").read_text())
CKPT, LORA = "tiny-random-sd15.safetensors", "tiny-random-lora.safetensors"


def params(**overrides) -> Txt2ImgParams:
    base = dict(checkpoint=CKPT, positive="anime girl, yellow raincoat", negative="lowres", seed=7,
                steps=20, cfg=6.5, sampler_name="euler_ancestral", scheduler="normal", width=512, height=768)
    return Txt2ImgParams(**{**base, **overrides})


VARIANTS = {
    "plain": params(),
    "lora": params(lora=LoraParams(name=LORA, strength_model=0.8, strength_clip=0.8)),
    "one reference": params(reference=IPAdapterReference(images=["ref_1.png"])),
    "two references with lora": params(lora=LoraParams(name=LORA),
                                       reference=IPAdapterReference(images=["ref_1.png", "ref_2.png"])),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_every_built_workflow_validates_against_real_object_info(name):
    workflow = build_txt2img_workflow(VARIANTS[name])
    assert validate_workflow(workflow, OBJECT_INFO) == []


def test_ipadapter_uses_seed_weights_and_feeds_the_sampler():
    workflow = build_txt2img_workflow(VARIANTS["one reference"])
    adapter = workflow["ipadapter_1"]["inputs"]
    assert (adapter["weight"], adapter["end_at"]) == (0.7, 0.85)
    assert workflow["sampler"]["inputs"]["model"] == ["ipadapter_1", 0]
    assert workflow["reference_1"]["inputs"]["image"] == "ref_1.png"


def test_lora_sits_between_checkpoint_and_sampler():
    workflow = build_txt2img_workflow(VARIANTS["lora"])
    assert workflow["lora"]["inputs"]["model"] == ["checkpoint", 0]
    assert workflow["sampler"]["inputs"]["model"] == ["lora", 0]
    assert workflow["positive"]["inputs"]["clip"] == ["lora", 1]


def test_builder_is_deterministic_and_the_hash_follows_content():
    a, b = build_txt2img_workflow(params()), build_txt2img_workflow(params())
    assert a == b and workflow_hash(a) == workflow_hash(b)
    assert workflow_hash(build_txt2img_workflow(params(seed=8))) != workflow_hash(a)


def _broken(mutate):
    workflow = copy.deepcopy(build_txt2img_workflow(params()))
    mutate(workflow)
    return [(e.node_id, e.input, e.message) for e in validate_workflow(workflow, OBJECT_INFO)]


def test_validator_finds_what_comfyui_rejects():
    assert _broken(lambda w: w["sampler"].update(class_type="FramePackSamplerX"))[0][2] == \
        "node type 'FramePackSamplerX' does not exist"
    assert ("save", "filename_prefix", "required input is missing") in \
        _broken(lambda w: w["save"]["inputs"].pop("filename_prefix"))
    assert ("checkpoint", "ckpt_name", "value 'v1-5-pruned-emaonly.safetensors' not in list") in \
        _broken(lambda w: w["checkpoint"]["inputs"].update(ckpt_name="v1-5-pruned-emaonly.safetensors"))
    assert ("latent", "width", "value 0 smaller than min of 16") in \
        _broken(lambda w: w["latent"]["inputs"].update(width=0))
    assert ("latent", "height", "'abc' is not an integer") in \
        _broken(lambda w: w["latent"]["inputs"].update(height="abc"))
    assert ("save", "images", "links to missing node '9'") in \
        _broken(lambda w: w["save"]["inputs"].update(images=["9", 0]))
    assert ("save", "images", "received_type(LATENT) mismatch input_type(IMAGE)") in \
        _broken(lambda w: w["save"]["inputs"].update(images=["sampler", 0]))
    assert ("decode", "vae", "node 'checkpoint' has no output 5") in \
        _broken(lambda w: w["decode"]["inputs"].update(vae=["checkpoint", 5]))
    assert ("", "", "the workflow has no output node") in _broken(lambda w: w.pop("save"))


@pytest.mark.parametrize("field,value", [("width", 500), ("steps", 0), ("seed", -1), ("checkpoint", "")])
def test_bad_parameters_fail_naming_the_field(field, value):
    with pytest.raises(ValidationError) as err:
        params(**{field: value})
    assert err.value.errors()[0]["loc"] == (field,)
