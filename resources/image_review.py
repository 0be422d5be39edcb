"""Which image reviewer a dataset batch uses, as Dagster resources; the reviewers themselves are
plain code in studio/review/reviewers.py."""

from __future__ import annotations

import dagster as dg

from resources.ollama import OllamaResource
from studio.review import reviewers


class ImageReviewerResource(dg.ConfigurableResource):
    """The interface assets depend on; the definitions pick one implementation by backend."""

    def get_client(self) -> reviewers.PreviewImageReviewer | reviewers.VisionImageReviewer:
        raise NotImplementedError


class PreviewImageReviewerResource(ImageReviewerResource):
    delay_s: float = 0.0  # tests only: STUDIO_PREVIEW_DELAY_S

    def get_client(self) -> reviewers.PreviewImageReviewer:
        return reviewers.PreviewImageReviewer(delay_s=self.delay_s)


class VisionImageReviewerResource(ImageReviewerResource):
    ollama: OllamaResource
    attempts: int = 3

    def get_client(self) -> reviewers.VisionImageReviewer:
        return reviewers.VisionImageReviewer(self.ollama.get_client(), attempts=self.attempts)
