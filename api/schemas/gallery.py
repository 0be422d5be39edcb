"""Answers of the gallery routes: a character's counts against its target, its batches, and one image's
provenance and decisions. Its pages of images are the review queue's `PendingPage` of `ImageOut`."""

from datetime import datetime
from typing import Literal

from api.schemas.base import ApiModel
from api.schemas.review import ImageOut


class Batch(ApiModel):
    """One dataset batch (a Dagster run) of the character, as generation_history recorded it."""

    batch: str
    status: Literal["started", "succeeded", "failed"]
    requested: int
    generated: int
    duplicates: int
    approved: int
    rejected: int
    pending: int
    gpu_seconds: float
    backend: str
    started_at: datetime
    finished_at: datetime | None


class GallerySummary(ApiModel):
    character: str
    name: str
    project: str
    target: int
    approved: int
    pending: int
    rejected: int
    uploaded: int
    gpu_seconds: float
    missing: int  # approved images still needed to reach the target
    complete: bool  # approved >= target: the dataset is ready for training
    batches: list[Batch]


class Provenance(ApiModel):
    width: int | None
    height: int | None
    sha256: str
    negative_prompt: str | None
    checkpoint: str | None
    lora: str | None
    workflow_hash: str | None
    comfy_prompt_id: str | None
    gpu_seconds: float | None
    backend: str
    batch: str | None
    batch_parameters: dict | None  # what the batch ran with (sampler settings, the learner's arm)
    batch_strategy: str | None


class Feedback(ApiModel):
    decision: Literal["approved", "rejected"]
    categories: list[str]
    comment: str
    reviewer: str
    created_at: datetime


class ImageDetail(ApiModel):
    image: ImageOut
    provenance: Provenance
    feedback: list[Feedback]
