"""Keyframe candidates: 2-4 txt2img pictures of a shot's first frame, and the reviewer's pick.

The pictures come from the dataset's image generator (ComfyUI with the character's active LoRA and
IP-Adapter references, or the preview drawer) with the shot's first-frame description in the
prompt; the image reviewer scores each against the character, and the best-scoring one becomes the
keyframe. The candidates stay on disk beside it, so a person can look and pick an approved image
instead (`keyframe_image_id`). Their GPU time is stored with the keyframe (`keyframe_gpu_seconds`).
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import asyncpg
from PIL import Image, ImageOps

from studio.datasets.models import GenerationRequest
from studio.datasets.repository import load_character
from studio.domain.prompts import build_negative_prompt, build_positive_prompt
from studio.training.active_lora import with_active_lora
from studio.uploads import write_atomically


def candidates_gpu_seconds(source: dict) -> float | None:
    """What the candidates a keyframe was picked from cost on the GPU (None: not made from candidates).
    They are no dataset images, so this is the only record of it (studio/episodes/gpu_accounting.py)."""
    if "candidates" not in source:
        return None
    return round(sum(c.get("gpu_seconds") or 0.0 for c in source["candidates"]), 3)


def _fitted(data: bytes, size: tuple[int, int]) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        fitted = ImageOps.fit(image.convert("RGB"), size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    fitted.save(out, "PNG")
    return out.getvalue()


async def pick_keyframe(conn: asyncpg.Connection, scene: str, shot: dict, seed: int, media_root: Path, *,
                        generator, reviewer, size: tuple[int, int], count: int, log: logging.Logger
                        ) -> tuple[bytes, dict] | None:
    """(PNG of the picked candidate, what was tried), or None when the shot has no character."""
    if not shot["characters"]:
        return None
    character = await load_character(conn, shot["characters"][0])
    if character is None:
        return None
    style = await with_active_lora(conn, character.id, character.style)
    # txt2img at the keyframe's aspect, on the style's multiple-of-8 grid.
    style = style.model_copy(update={"width": size[0] // 8 * 8, "height": size[1] // 8 * 8})
    description = ", ".join(p for p in (shot["first_frame"] or shot["description"], character.design_prompt) if p)
    positive = build_positive_prompt(style.positive_template, description)
    negative = build_negative_prompt(style.negative_template, character.appearance)
    references = {f"ref_{Path(p).stem}{Path(p).suffix}": (media_root / p).read_bytes()
                  for p in character.reference_images if (media_root / p).is_file()}
    tried = []
    best: tuple[float, bytes] | None = None
    for i in range(count):
        request = GenerationRequest(
            character=character.slug, appearance=character.appearance, positive=positive, negative=negative,
            seed=seed + i, style=style, references=references,
            filename_prefix=f"keyframes/{scene}/{shot['shot_key']}_{seed + i}")
        image = await generator.generate(request, log)
        review = await reviewer.review(image.data, character, log)
        png = _fitted(image.data, size)
        relative = f"shots/{scene}/{shot['shot_key']}/candidate-{i + 1}.png"
        write_atomically(media_root / relative, png)
        tried.append({"path": relative, "seed": seed + i, "score": review.quality_score, "reason": review.reason,
                      "backend": image.backend, "prompt_id": image.comfy_prompt_id, "gpu_seconds": image.gpu_seconds})
        if best is None or review.quality_score > best[0]:
            best = (review.quality_score, png)
    log.info("shot %s: keyframe picked from %d candidates (scores %s)", shot["shot_key"], count,
             ", ".join(f"{t['score']:.2f}" for t in tried))
    return best[1], {"candidates": tried, "picked": max(range(count), key=lambda i: tried[i]["score"])}
