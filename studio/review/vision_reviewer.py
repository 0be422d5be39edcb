"""Reviewing one image with the Ollama vision model. An error never approves an image."""

from __future__ import annotations

import json

from pydantic import ValidationError

from resources.ollama import OllamaError, OllamaModelNotFound, OllamaResource
from studio.domain.appearance import Appearance
from studio.domain.review import ReviewResult
from studio.review.checklist import ANSWER_SCHEMA, build_review_prompt


def _failed(model: str, error: str) -> ReviewResult:
    return ReviewResult(quality_score=0.0, solo=False, backend="ollama", model=model, error=error)


async def review_image(ollama: OllamaResource, image_bytes: bytes, *, character_name: str,
                       design_prompt: str, appearance: Appearance, attempts: int = 3) -> ReviewResult:
    model = ollama.vision_model
    prompt = build_review_prompt(character_name, design_prompt, appearance)
    problem = "no attempt made"
    for _ in range(attempts):
        try:
            reply = await ollama.chat(model, [{"role": "user", "content": prompt}], format_schema=ANSWER_SCHEMA,
                                      images=[image_bytes], options={"temperature": 0})
        except OllamaModelNotFound as exc:
            return _failed(model, f"vision model unavailable: {exc}")  # retrying cannot help
        except OllamaError as exc:
            problem = str(exc)
            continue
        if reply.truncated:
            problem = "answer truncated (done_reason=length)"
            continue
        try:
            answer = json.loads(reply.content)
            if not isinstance(answer, dict):
                raise ValueError("not an object")
            return ReviewResult(**answer, backend="ollama", model=reply.model)
        except (ValueError, TypeError, ValidationError) as exc:
            problem = f"malformed answer: {str(exc).splitlines()[0][:200]}"
    return _failed(model, f"no usable answer after {attempts} attempts ({problem})")
