"""Training captions from the vision model (live backend): what is in each picture, as tags.

The caption stays trigger word + tags (studio/domain/captions.py): the model is asked only for the
tags. Every answer that cannot be used (the model away, malformed JSON, no usable tag) leaves that
image with the caption from its character's appearance data, and the reason is logged. A caption the
model did write is kept in `training_captions`, so the snapshot's hash does not change between the
training sensor's look and the next run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path

from studio.clients.ollama import OllamaClient, OllamaError
from studio.datasets.models import CharacterContext
from studio.domain.appearance import species_name
from studio.domain.captions import MAX_TAGS, caption_from_tags, trigger_word
from studio.training.dataset import TrainingImage

TAGS_SCHEMA = {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
               "required": ["tags"]}
CAPTION_OPTIONS = {"temperature": 0}  # the same image gives the same caption


def caption_prompt(character: CharacterContext) -> str:
    features = ", ".join(character.appearance.features) or "none listed"
    return (f"This is a training image of {character.name}, a {species_name(character.appearance.species)} "
            f"({character.design_prompt}; features: {features}). List up to {MAX_TAGS} short booru-style tags "
            "for what is visible: pose, expression, framing, clothing, background, lighting. Describe only "
            "what you see; never the character's name. Answer as JSON: {\"tags\": [...]}.")


@dataclass
class CaptionReport:
    asked: int = 0
    captioned: int = 0
    fallbacks: int = 0


async def _ask(ollama: OllamaClient, character: CharacterContext, image: bytes) -> str:
    reply = await ollama.chat(ollama.vision_model, [{"role": "user", "content": caption_prompt(character)}],
                              format_schema=TAGS_SCHEMA, images=[image], options=CAPTION_OPTIONS)
    if reply.truncated:
        raise ValueError("the answer was cut off")
    try:
        answer = json.loads(reply.content)
    except ValueError:
        raise ValueError(f"not JSON: {reply.content[:80]!r}") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("tags"), list):
        raise ValueError("no list of tags in the answer")
    return caption_from_tags(trigger_word(character.slug), answer["tags"])


async def caption_with_vision(conn, ollama: OllamaClient, character: CharacterContext,
                              images: list[TrainingImage], media_root: Path,
                              log: logging.Logger) -> tuple[list[TrainingImage], CaptionReport]:
    """Ask the model for each image without a stored caption and keep each caption it writes. Returns
    the images with their captions, and what happened."""
    report, out = CaptionReport(), []
    async with ollama.session():
        for image in images:
            if image.vision_caption:
                out.append(image)
                continue
            report.asked += 1
            try:
                caption = await _ask(ollama, character, (media_root / image.file_path).read_bytes())
            except (OllamaError, ValueError, OSError) as exc:
                report.fallbacks += 1
                log.warning(f"{character.slug}: image {image.image_id} keeps its appearance caption: "
                            f"the vision model's caption failed ({' '.join(str(exc).split())[:200]})")
                out.append(image)
                continue
            await conn.execute(
                "INSERT INTO training_captions (image_id, caption, model) VALUES ($1, $2, $3) "
                "ON CONFLICT (image_id) DO UPDATE SET caption = EXCLUDED.caption, model = EXCLUDED.model, "
                "created_at = now()", image.image_id, caption, ollama.vision_model)
            report.captioned += 1
            out.append(replace(image, caption=caption, vision_caption=True))
    return out, report
