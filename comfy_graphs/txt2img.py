"""txt2img in ComfyUI's API format: checkpoint -> optional LoRA -> optional IP-Adapter -> KSampler.

Node ids are readable and stable, so two builds of the same parameters are byte-identical and a
ComfyUI error naming a node id points at something a person recognises.
"""

from __future__ import annotations

from comfy_graphs.params import Txt2ImgParams


def _node(class_type: str, **inputs) -> dict:
    return {"class_type": class_type, "inputs": inputs}


def build_txt2img_workflow(params: Txt2ImgParams) -> dict:
    graph: dict[str, dict] = {"checkpoint": _node("CheckpointLoaderSimple", ckpt_name=params.checkpoint)}
    model, clip = ["checkpoint", 0], ["checkpoint", 1]
    if params.lora:
        graph["lora"] = _node(
            "LoraLoader", model=model, clip=clip, lora_name=params.lora.name,
            strength_model=params.lora.strength_model, strength_clip=params.lora.strength_clip,
        )
        model, clip = ["lora", 0], ["lora", 1]
    if params.reference:
        model = _add_ipadapter(graph, model, params)
    graph["positive"] = _node("CLIPTextEncode", text=params.positive, clip=clip)
    graph["negative"] = _node("CLIPTextEncode", text=params.negative, clip=clip)
    graph["latent"] = _node("EmptyLatentImage", width=params.width, height=params.height,
                            batch_size=params.batch_size)
    graph["sampler"] = _node(
        "KSampler", model=model, positive=["positive", 0], negative=["negative", 0],
        latent_image=["latent", 0], seed=params.seed, steps=params.steps, cfg=params.cfg,
        sampler_name=params.sampler_name, scheduler=params.scheduler, denoise=1.0,
    )
    graph["decode"] = _node("VAEDecode", samples=["sampler", 0], vae=["checkpoint", 2])
    graph["save"] = _node("SaveImage", images=["decode", 0], filename_prefix=params.filename_prefix)
    return graph


def _add_ipadapter(graph: dict, model: list, params: Txt2ImgParams) -> list:
    """IP-Adapter between the (LoRA-patched) model and the sampler; returns the patched model link.

    Several references are chained, one IPAdapterAdvanced each: the node set we target has no
    image-batch node (no ImageBatch in object_info), and LoadImage gives one image per node.
    """
    reference = params.reference
    graph["ipadapter_loader"] = _node("IPAdapterUnifiedLoader", model=model, preset=reference.preset)
    model = ["ipadapter_loader", 0]
    weight = _weight_per_reference(reference.weight, len(reference.images))
    for i, image in enumerate(reference.images, 1):
        graph[f"reference_{i}"] = _node("LoadImage", image=image)
        graph[f"ipadapter_{i}"] = _node(
            "IPAdapterAdvanced", model=model, ipadapter=["ipadapter_loader", 1], image=[f"reference_{i}", 0],
            weight=weight, weight_type="linear", combine_embeds="concat", start_at=0.0,
            end_at=reference.end_at, embeds_scaling="V only",
        )
        model = [f"ipadapter_{i}", 0]
    return model


def _weight_per_reference(total: float, count: int) -> float:
    # Chained adapters add their attention patches, so n references at the full weight would pull
    # n times as hard as one and freeze the pose; sharing the weight keeps the seed system's
    # overall strength (0.7) whatever the number of references.
    return total if count == 1 else total / count
