"""The character's active LoRA in its generation style: what its later dataset batches and keyframes
render with once a checkpoint passed the sample gate (or a person chose one)."""

from __future__ import annotations

from studio.datasets.models import StyleParams


async def with_active_lora(conn, character_id: int, style: StyleParams) -> StyleParams:
    """The style with the character's active LoRA in its LoRA slot; unchanged while it has none.
    The txt2img graph has one LoRA slot, so the character's LoRA takes the style's place."""
    name = await conn.fetchval("SELECT lora_name FROM lora_checkpoints WHERE character_id = $1 AND is_active",
                               character_id)
    return style.model_copy(update={"lora_name": name}) if name else style
