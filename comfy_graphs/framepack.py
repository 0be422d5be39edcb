"""FramePack image-to-video in ComfyUI's API format, as the FramePack wrapper node set takes it.

    start image -> FramePackFindNearestBucket -> ImageScale -> VAEEncode        -> start_latent
                                                           -> CLIPVisionEncode -> image_embeds
    motion prompt -> CLIPTextEncode (HunyuanVideo text encoders) -> positive; zeroed -> negative
    LoadFramePackModel -> FramePackSampler -> VAEDecodeTiled -> VHS_VideoCombine (mp4, under `gifs`)

The sampler has no start_image input: the start frame goes in VAE-encoded and CLIP-vision-encoded.
`load_device` and `embed_interpolation` are always sent: load_device's declared default is not one
of its options, and the UI and Python defaults of embed_interpolation differ. The output runs at
30 fps in sections of latent_window_size*4 frames, so a duration is rounded to whole sections.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from comfy_graphs.params import _Params

FPS = 30


class FramePackUnavailable(ValueError):
    """The server lacks what the parameters ask for (an F1 sampler node)."""


class FramePackParams(_Params):
    model: str = Field(min_length=1)  # in models/diffusion_models
    base_precision: Literal["fp32", "bf16", "fp16"] = "bf16"
    quantization: Literal["disabled", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2"] = "disabled"
    load_device: Literal["main_device", "offload_device"] = "main_device"
    clip_l: str = Field("clip_l.safetensors", min_length=1)
    llava: str = Field("llava_llama3_fp16.safetensors", min_length=1)
    clip_vision: str = Field("sigclip_vision_patch14_384.safetensors", min_length=1)
    vae: str = Field("hunyuan_video_vae_bf16.safetensors", min_length=1)
    start_image: str = Field(min_length=1)  # an uploaded file name, as LoadImage takes it
    base_resolution: int = Field(640, ge=64, le=2048, multiple_of=16)
    motion_prompt: str = Field(min_length=1)
    seed: int = Field(ge=0, le=2**64 - 1)
    steps: int = Field(30, ge=1, le=1000)
    duration_s: float = Field(gt=0, le=120)
    latent_window_size: int = Field(9, ge=1, le=33)
    use_teacache: bool = False  # faster and lossy: drafts, not finals
    teacache_rel_l1_thresh: float = Field(0.15, ge=0, le=1)
    cfg: float = Field(1.0, ge=0, le=30)
    guidance_scale: float = Field(10.0, ge=0, le=32)
    shift: float = Field(0.0, ge=0, le=1000)
    # Seed-system value for a 12 GB card.
    gpu_memory_preservation: float = Field(6.0, ge=0, le=128)
    sampler: Literal["unipc_bh1", "unipc_bh2"] = "unipc_bh1"
    embed_interpolation: Literal["disabled", "weighted_average", "linear"] = "disabled"
    start_embed_strength: float = Field(1.0, ge=0, le=1)
    crf: int = Field(19, ge=0, le=51)
    filename_prefix: str = Field("anime_studio/shot", min_length=1)
    use_f1: bool = False

    @property
    def section_seconds(self) -> float:
        return self.latent_window_size * 4 / FPS

    @property
    def sections(self) -> int:
        return max(1, round(self.duration_s / self.section_seconds))

    @property
    def rendered_seconds(self) -> float:
        """The length FramePack will produce: whole sections of the latent window."""
        return round(self.sections * self.section_seconds, 3)


def f1_sampler_node(object_info: dict) -> str | None:
    """The F1 sampler a fork of the wrapper adds, if this server has one (the main branch has none)."""
    names = sorted(n for n in object_info if n.startswith("FramePack") and "Sampler" in n and "F1" in n)
    return names[0] if names else None


def _node(class_type: str, **inputs) -> dict:
    return {"class_type": class_type, "inputs": inputs}


def build_framepack_workflow(params: FramePackParams, object_info: dict | None = None) -> dict:
    """The workflow for one shot. `object_info` is needed only to find an F1 sampler (`use_f1`)."""
    sampler_type = "FramePackSampler"
    if params.use_f1:
        sampler_type = f1_sampler_node(object_info or {})
        if sampler_type is None:
            raise FramePackUnavailable("use_f1: this ComfyUI has no FramePack F1 sampler node (the wrapper's "
                                       "main branch has none); render with use_f1 off or install a fork with F1")
    graph: dict[str, dict] = {
        "model": _node("LoadFramePackModel", model=params.model, base_precision=params.base_precision,
                       quantization=params.quantization, load_device=params.load_device, attention_mode="sdpa"),
        "text_encoders": _node("DualCLIPLoader", clip_name1=params.clip_l, clip_name2=params.llava,
                               type="hunyuan_video"),
        "positive": _node("CLIPTextEncode", text=params.motion_prompt, clip=["text_encoders", 0]),
        "negative": _node("ConditioningZeroOut", conditioning=["positive", 0]),
        "clip_vision": _node("CLIPVisionLoader", clip_name=params.clip_vision),
        "vae": _node("VAELoader", vae_name=params.vae),
        "start_image": _node("LoadImage", image=params.start_image),
        "bucket": _node("FramePackFindNearestBucket", image=["start_image", 0],
                        base_resolution=params.base_resolution),
        "start_frame": _node("ImageScale", image=["start_image", 0], upscale_method="lanczos",
                             width=["bucket", 0], height=["bucket", 1], crop="center"),
        "start_latent": _node("VAEEncode", pixels=["start_frame", 0], vae=["vae", 0]),
        "start_embeds": _node("CLIPVisionEncode", clip_vision=["clip_vision", 0], image=["start_frame", 0],
                              crop="none"),
    }
    sampler_inputs = dict(
        model=["model", 0], positive=["positive", 0], negative=["negative", 0], start_latent=["start_latent", 0],
        image_embeds=["start_embeds", 0], steps=params.steps, use_teacache=params.use_teacache,
        teacache_rel_l1_thresh=params.teacache_rel_l1_thresh, cfg=params.cfg, guidance_scale=params.guidance_scale,
        shift=params.shift, seed=params.seed, latent_window_size=params.latent_window_size,
        total_second_length=round(params.rendered_seconds, 1), gpu_memory_preservation=params.gpu_memory_preservation,
        sampler=params.sampler, embed_interpolation=params.embed_interpolation,
        start_embed_strength=params.start_embed_strength,
    )
    if params.use_f1:
        sampler_inputs = _declared_only(sampler_inputs, object_info[sampler_type])
    graph["sampler"] = _node(sampler_type, **sampler_inputs)
    graph["decode"] = _node("VAEDecodeTiled", samples=["sampler", 0], vae=["vae", 0], tile_size=256, overlap=64,
                            temporal_size=64, temporal_overlap=8)
    graph["video"] = _node("VHS_VideoCombine", images=["decode", 0], frame_rate=float(FPS), loop_count=0,
                           filename_prefix=params.filename_prefix, format="video/h264-mp4", pix_fmt="yuv420p",
                           crf=params.crf, save_metadata=True, trim_to_audio=False, pingpong=False, save_output=True)
    return graph


def _declared_only(inputs: dict, info: dict) -> dict:
    # A fork's F1 sampler declares its own inputs; sending one it lacks would only be ignored.
    declared = {**info.get("input", {}).get("required", {}), **info.get("input", {}).get("optional", {})}
    return {name: value for name, value in inputs.items() if name in declared}
