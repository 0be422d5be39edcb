"""Image reviewers for dataset batches: the Ollama vision model (live) or the CPU heuristic."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from studio.clients.ollama import OllamaClient
from studio.datasets.models import CharacterContext
from studio.domain.review import ReviewResult
from studio.preview.heuristic_reviewer import review_preview_image
from studio.review.vision_reviewer import review_image


class PreviewImageReviewer:
    backend = "preview"

    def __init__(self, delay_s: float = 0.0):
        self.delay_s = delay_s  # tests only (STUDIO_PREVIEW_DELAY_S): a review a fault test can kill mid-way

    def session(self) -> contextlib.AbstractAsyncContextManager:
        return contextlib.nullcontext()  # nothing to share for a local backend

    async def review(self, image: bytes, character: CharacterContext, log: logging.Logger) -> ReviewResult:
        await asyncio.sleep(self.delay_s)
        return await asyncio.to_thread(review_preview_image, image, character.appearance)


class VisionImageReviewer:
    backend = "ollama"

    def __init__(self, ollama: OllamaClient, attempts: int = 3):
        self.ollama, self.attempts = ollama, attempts

    def session(self) -> contextlib.AbstractAsyncContextManager:
        """Around a batch: one kept-alive HTTP client for all its reviews."""
        return self.ollama.session()

    async def review(self, image: bytes, character: CharacterContext, log: logging.Logger) -> ReviewResult:
        return await review_image(
            self.ollama, image, character_name=character.name, design_prompt=character.design_prompt,
            appearance=character.appearance, attempts=self.attempts,
        )
