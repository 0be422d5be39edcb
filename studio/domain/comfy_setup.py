"""What a ComfyUI server lacks for our workflows, said as a person can fix it. Pure: no I/O.

Validation against the server's object_info (comfy_graphs/validate.py) finds unknown node types and
model names missing from a loader's list. IP-Adapter's unified loader is different: it finds its
files at run time, so a workflow with it validates fine and then fails in every job ("ClipVision
model not found", naming the node, not the file); its folders are checked from the model listing.
"""

from __future__ import annotations

from dataclasses import dataclass

from comfy_graphs.validate import WorkflowError, validate_workflow


@dataclass(frozen=True)
class ServerSetup:
    """What one server has: its object_info and the files of the folders looked up only at run time."""

    object_info: dict
    models: dict[str, list[str]]


# Custom node packs by the node types they bring (what to install into ComfyUI's custom_nodes/).
NODE_PACKS = {
    "IPAdapter": "ComfyUI_IPAdapter_plus (cubiq)",
    "VHS_": "ComfyUI-VideoHelperSuite",
    "FramePack": "ComfyUI-FramePackWrapper (kijai)",
    "LoadFramePackModel": "ComfyUI-FramePackWrapper (kijai)",
}

# Loader inputs whose list is a model folder: (class type, input) -> folder under ComfyUI/models.
LOADER_FOLDERS = {
    ("CheckpointLoaderSimple", "ckpt_name"): "checkpoints",
    ("LoraLoader", "lora_name"): "loras",
    ("LoraLoaderModelOnly", "lora_name"): "loras",
    ("VAELoader", "vae_name"): "vae",
    ("CLIPVisionLoader", "clip_name"): "clip_vision",
    ("IPAdapterModelLoader", "ipadapter_file"): "ipadapter",
    ("DualCLIPLoader", "clip_name1"): "text_encoders",
    ("DualCLIPLoader", "clip_name2"): "text_encoders",
    ("LoadFramePackModel", "model"): "diffusion_models",
}

# What else fixes a missing file: the file name comes from the project spec or from a setting.
OTHERWISE = {
    "checkpoints": " (or change the style in the project spec)",
    "loras": " (or change the style in the project spec)",
    "diffusion_models": " (or set STUDIO_FRAMEPACK_MODEL to a FramePack model the server has)",
}

# The unified loader's presets need one file in each of these folders (ip-adapter-plus for SD1.5 shown).
IPADAPTER_RUNTIME_FOLDERS = {
    "ipadapter": "an IP-Adapter model, e.g. ip-adapter-plus_sd15.safetensors",
    "clip_vision": "the CLIP-vision encoder, e.g. CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors",
}


def node_pack(class_type: str) -> str | None:
    return next((pack for prefix, pack in NODE_PACKS.items() if class_type.startswith(prefix)), None)


def _value(error: WorkflowError) -> str:
    # "value 'x.safetensors' not in list" -> x.safetensors
    text = error.message
    return text.split("'", 2)[1] if text.count("'") >= 2 else text


def advice(error: WorkflowError, server: str) -> str:
    """One line: what is wrong on `server` and how to fix it."""
    if error.message.startswith("node type "):
        pack = node_pack(error.class_type)
        fix = f"install the custom node pack {pack}" if pack else "install the custom node that provides it"
        return f"ComfyUI at {server} has no node {error.class_type}: {fix} into ComfyUI/custom_nodes and restart ComfyUI"
    folder = LOADER_FOLDERS.get((error.class_type, error.input))
    if folder and "not in list" in error.message:
        return (f"ComfyUI at {server} has no {folder} file {_value(error)!r}: put it into ComfyUI/models/{folder}"
                + OTHERWISE.get(folder, ""))
    return f"ComfyUI at {server} would refuse the workflow: {error}"


def runtime_model_problems(workflow: dict, models: dict[str, list[str]], server: str) -> list[str]:
    """Files the workflow's nodes look up only at run time, missing from the server's folders."""
    if not any(node.get("class_type") == "IPAdapterUnifiedLoader" for node in workflow.values()):
        return []
    return [f"ComfyUI at {server} has no file in models/{folder} (a character has reference images, so IP-Adapter "
            f"runs): put {what} into ComfyUI/models/{folder}"
            for folder, what in IPADAPTER_RUNTIME_FOLDERS.items() if not models.get(folder)]


def setup_problems(workflow: dict, errors: list[WorkflowError], models: dict[str, list[str]], server: str) -> list[str]:
    """Every line for one workflow on one server, without repeats, in the order found."""
    lines = [advice(error, server) for error in errors] + runtime_model_problems(workflow, models, server)
    return list(dict.fromkeys(lines))


def workflow_problems(workflow: dict, setup: ServerSetup, server: str) -> list[str]:
    """What `server` lacks for `workflow`, judged from what it said it has."""
    return setup_problems(workflow, validate_workflow(workflow, setup.object_info), setup.models, server)
