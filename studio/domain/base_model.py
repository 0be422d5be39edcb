"""Which base architecture a style's checkpoint is: it picks kohya's training script, its flags and
the LoRA key layout. Pure, no I/O."""

from __future__ import annotations

import re
from typing import Literal

Architecture = Literal["sd15", "sdxl"]
ARCHITECTURES: tuple[Architecture, ...] = ("sd15", "sdxl")

# Checkpoint families built on SDXL whose file names often lack "xl" (Pony, Illustrious, NoobAI).
_SDXL_WORDS = re.compile(r"sdxl|pony|illustrious|noobai|(?<![a-z])xl(?![a-z])")


def base_architecture(checkpoint: str, declared: str | None = None) -> Architecture:
    """The declared architecture when the style names one, else what the checkpoint's name says."""
    if declared:
        if declared not in ARCHITECTURES:
            raise ValueError(f"base_architecture: {declared!r} is not one of {', '.join(ARCHITECTURES)}")
        return declared  # type: ignore[return-value]
    return "sdxl" if _SDXL_WORDS.search(checkpoint.lower()) else "sd15"
