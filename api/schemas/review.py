"""Request and response bodies of the review routes."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field

from api.schemas.base import ApiInput, ApiModel
from api.schemas.bounds import DbId
from studio.domain.feedback_rules import REJECTION_CATEGORIES
from studio.domain.review import ChecklistItem
from studio.review.decisions import MAX_BULK


class StoredReview(ApiModel):
    """The automatic review as stored in images.review; every field optional (older rows)."""

    quality_score: float | None = None
    solo: bool | None = None
    checklist: list[ChecklistItem] = Field(default_factory=list)
    species_ok: bool | None = None
    reason: str = ""
    backend: str | None = None
    model: str = ""
    error: str | None = None


class ImageOut(ApiModel):
    """Rendered by PostgreSQL (studio.review.queries.IMAGE_JSON); this model is its documented schema."""

    id: int
    character: str
    character_name: str
    project: str
    status: Literal["pending", "approved", "rejected"]
    quality_score: float | None
    review: StoredReview | None
    species: str | None
    non_human: bool
    prompt: str | None
    seed: int | None
    created_at: datetime
    decided_by: Literal["auto", "human"] | None = None
    reviewer: str | None = None
    reviewed_at: datetime | None = None
    source: str = "generated"
    image_url: str
    thumb_url: str


class PendingPage(ApiModel):
    items: list[ImageOut]
    next: str | None


class CharacterCounts(ApiModel):
    character: str
    name: str
    approved: int
    pending: int
    rejected: int
    target: int


def _known_category(value: str) -> str:
    if value not in REJECTION_CATEGORIES:
        raise ValueError(f"unknown rejection category {value!r} (one of {', '.join(REJECTION_CATEGORIES)})")
    return value


# An enum, checked for every route that takes one (a bulk approval too, which ignores them); the
# message names the unknown value.
Category = Annotated[str, AfterValidator(_known_category), Field(json_schema_extra={"enum": list(REJECTION_CATEGORIES)})]


class ApproveIn(ApiInput):
    """No fields: a body naming any is refused."""


class RejectIn(ApiInput):
    categories: list[Category] = Field(min_length=1, max_length=50)
    comment: str = Field("", max_length=2000)


class ReassignIn(ApiInput):
    character: str = Field(min_length=1, max_length=200)


class BulkIn(ApiInput):
    # A rejection needs a category (studio.review.decisions says so too); an approval ignores them.
    model_config = ConfigDict(json_schema_extra={
        "if": {"properties": {"action": {"const": "reject"}}, "required": ["action"]},
        "then": {"properties": {"categories": {"minItems": 1}}, "required": ["categories"]}})

    action: Literal["approve", "reject"]
    ids: list[DbId] = Field(min_length=1, max_length=MAX_BULK)
    categories: list[Category] = Field(default_factory=list, max_length=50)
    comment: str = Field("", max_length=2000)


class BulkOut(ApiModel):
    decided: list[int]
    conflicts: list[int]
    missing: list[int]
