"""The module layout of a kohya `networks.lora` file for each base architecture.

Names and shapes are the ones sd-scripts writes: SD1.5 checked key for key against a real run's file,
SDXL against sd-scripts' own SDXL U-Net and LoRA network code (722 U-Net modules, 72 for text encoder 1
under lora_te1_, 192 for text encoder 2 under lora_te2_). ComfyUI never fails a prompt over LoRA keys
that do not fit, it only logs them, so a writer must match exactly. SD1.5 names its U-Net blocks in
diffusers style with 1x1-conv proj_in/out; SDXL keeps the original (LDM) block names with linear
proj_in/out and a 2048-wide text context.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.domain.base_model import Architecture


@dataclass(frozen=True)
class LoraModule:
    name: str
    in_dim: int
    out_dim: int
    conv1x1: bool = False

    def shapes(self, rank: int) -> dict[str, tuple[int, ...]]:
        tail = (1, 1) if self.conv1x1 else ()
        return {
            f"{self.name}.alpha": (),
            f"{self.name}.lora_down.weight": (rank, self.in_dim, *tail),
            f"{self.name}.lora_up.weight": (self.out_dim, rank, *tail),
        }


def _transformer(prefix: str, channels: int, context: int, depth: int, conv: bool) -> list[LoraModule]:
    modules = [LoraModule(f"{prefix}_proj_in", channels, channels, conv),
               LoraModule(f"{prefix}_proj_out", channels, channels, conv)]
    for i in range(depth):
        block = f"{prefix}_transformer_blocks_{i}"
        modules += [LoraModule(f"{block}_attn1_to_{x}", channels, channels) for x in ("q", "k", "v")]
        modules += [LoraModule(f"{block}_attn1_to_out_0", channels, channels),
                    LoraModule(f"{block}_attn2_to_q", channels, channels),
                    LoraModule(f"{block}_attn2_to_k", context, channels),
                    LoraModule(f"{block}_attn2_to_v", context, channels),
                    LoraModule(f"{block}_attn2_to_out_0", channels, channels),
                    LoraModule(f"{block}_ff_net_0_proj", channels, channels * 8),  # GEGLU: two halves
                    LoraModule(f"{block}_ff_net_2", channels * 4, channels)]
    return modules


def _text_encoder(prefix: str, layers: int, width: int, mlp: int) -> list[LoraModule]:
    modules = []
    for i in range(layers):
        layer = f"{prefix}_text_model_encoder_layers_{i}"
        modules += [LoraModule(f"{layer}_self_attn_{x}_proj", width, width) for x in ("q", "k", "v", "out")]
        modules += [LoraModule(f"{layer}_mlp_fc1", width, mlp), LoraModule(f"{layer}_mlp_fc2", mlp, width)]
    return modules


def _sd15_unet() -> list[LoraModule]:
    blocks = [(f"down_blocks_{b}_attentions_{a}", c) for b, c in enumerate((320, 640, 1280)) for a in (0, 1)]
    blocks += [("mid_block_attentions_0", 1280)]
    blocks += [(f"up_blocks_{b}_attentions_{a}", c) for b, c in ((1, 1280), (2, 640), (3, 320)) for a in (0, 1, 2)]
    return [m for name, c in blocks for m in _transformer(f"lora_unet_{name}", c, 768, 1, conv=True)]


def _sdxl_unet() -> list[LoraModule]:
    blocks = [("input_blocks_4_1", 640, 2), ("input_blocks_5_1", 640, 2),
              ("input_blocks_7_1", 1280, 10), ("input_blocks_8_1", 1280, 10), ("middle_block_1", 1280, 10)]
    blocks += [(f"output_blocks_{i}_1", 1280, 10) for i in (0, 1, 2)]
    blocks += [(f"output_blocks_{i}_1", 640, 2) for i in (3, 4, 5)]
    return [m for name, c, depth in blocks for m in _transformer(f"lora_unet_{name}", c, 2048, depth, conv=False)]


def lora_modules(architecture: Architecture, *, train_text_encoder: bool) -> list[LoraModule]:
    if architecture == "sd15":
        text = _text_encoder("lora_te", 12, 768, 3072) if train_text_encoder else []
        return text + _sd15_unet()
    if architecture == "sdxl":
        text = (_text_encoder("lora_te1", 12, 768, 3072) + _text_encoder("lora_te2", 32, 1280, 5120)
                if train_text_encoder else [])
        return text + _sdxl_unet()
    raise ValueError(f"architecture: {architecture!r} has no LoRA layout")


def lora_shapes(architecture: Architecture, rank: int, *, train_text_encoder: bool) -> dict[str, tuple[int, ...]]:
    """Every tensor name of the file with its shape, sorted as sd-scripts' files are."""
    shapes: dict[str, tuple[int, ...]] = {}
    for module in lora_modules(architecture, train_text_encoder=train_text_encoder):
        shapes.update(module.shapes(rank))
    return dict(sorted(shapes.items()))
