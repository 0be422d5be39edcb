"""Image reviewers for dataset batches: the Ollama vision model (live) or the CPU heuristic."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import dagster as dg

from resources.ollama import OllamaResource
from studio.datasets.models import CharacterContext
from studio.domain.review import ReviewResult
from studio.preview.heuristic_reviewer import review_preview_image
from studio.review.vision_reviewer import review_image


class ImageReviewerResource(dg.ConfigurableResource):
    """The interface assets depend on; the definitions pick one implementation by backend."""

    @property
    def backend(self) -> str:
        raise NotImplementedError

    async def review(self, image: bytes, character: CharacterContext, log: logging.Logger) -> ReviewResult:
        raise NotImplementedError

    def session(self) -> contextlib.AbstractAsyncContextManager:
        """Around a batch: connections its reviews share. Nothing to share for a local backend."""
        return contextlib.nullcontext()


class PreviewImageReviewer(ImageReviewerResource):
    @property
    def backend(self) -> str:
        return "preview"

    async def review(self, image: bytes, character: CharacterContext, log: logging.Logger) -> ReviewResult:
        return await asyncio.to_thread(review_preview_image, image, character.appearance)


class VisionImageReviewer(ImageReviewerResource):
    ollama: OllamaResource
    attempts: int = 3

    @property
    def backend(self) -> str:
        return "ollama"

    def session(self) -> contextlib.AbstractAsyncContextManager:
        return self.ollama.session()

    async def review(self, image: bytes, character: CharacterContext, log: logging.Logger) -> ReviewResult:
        return await review_image(
            self.ollama, image, character_name=character.name, design_prompt=character.design_prompt,
            appearance=character.appearance, attempts=self.attempts,
        )
