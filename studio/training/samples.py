"""Sample images of a new checkpoint: a few prompts rendered with the LoRA through the same image
generator the dataset batches use (ComfyUI txt2img with LoraLoader, live), reviewed by the same
reviewer. Their scores are the checkpoint's quality and feed the sample gate."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from studio.datasets.models import CharacterContext, GenerationRequest
from studio.domain.captions import trigger_word
from studio.domain.prompts import build_negative_prompt, build_positive_prompt
from studio.uploads import write_atomically

SAMPLE_SCENES = ("full body, standing, simple background", "upper body portrait, looking at viewer",
                 "sitting outdoors, soft daylight", "dynamic pose, three-quarter view")


def sample_requests(character: CharacterContext, lora_name: str, version: int, count: int) -> list[GenerationRequest]:
    style = character.style.model_copy(update={"lora_name": lora_name, "lora_strength": 1.0})
    negative = build_negative_prompt(style.negative_template, character.appearance)
    requests = []
    for i in range(count):
        scene = SAMPLE_SCENES[i % len(SAMPLE_SCENES)]
        # Fixed seeds per (character, index): every checkpoint of a character is judged on the same samples.
        seed = int.from_bytes(hashlib.sha256(f"{character.slug}:sample:{i}".encode()).digest()[:6], "big")
        positive = build_positive_prompt(style.positive_template, character.design_prompt,
                                         [trigger_word(character.slug), scene])
        requests.append(GenerationRequest(
            character=character.slug, appearance=character.appearance, positive=positive, negative=negative,
            seed=seed, style=style, filename_prefix=f"{character.slug}/lora_v{version}_sample_{i}"))
    return requests


async def render_samples(character: CharacterContext, lora_name: str, version: int, *, generator, reviewer,
                         media_root: Path, count: int, log: logging.Logger) -> list[dict]:
    """[{path, seed, prompt, score, backend}] of each sample, written under media/loras/<slug>/samples/."""
    samples = []
    async with generator.session(), reviewer.session():
        for i, request in enumerate(sample_requests(character, lora_name, version, count)):
            image = await generator.generate(request, log)
            review = await reviewer.review(image.data, character, log)
            relative = f"loras/{character.slug}/samples/v{version}_{i}.png"
            write_atomically(media_root / relative, image.data)
            samples.append({"path": relative, "seed": request.seed, "prompt": request.positive,
                            "score": None if review.error else review.quality_score, "backend": image.backend,
                            "reason": review.error or review.reason})
    return samples
