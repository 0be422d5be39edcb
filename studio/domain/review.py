"""The result of reviewing one image and the rule that turns it into a decision.

Both reviewers (the Ollama vision model and the CPU preview heuristic) produce a `ReviewResult`;
`decide` is the only place the approve/reject/manual thresholds live.
"""

from typing import Literal

from pydantic import BaseModel, Field

Decision = Literal["approved", "rejected", "pending"]

AUTO_REJECT_BELOW = 0.4
AUTO_APPROVE_FROM = 0.8


class ChecklistItem(BaseModel):
    item: str
    passed: bool


class ReviewResult(BaseModel):
    quality_score: float = Field(ge=0.0, le=1.0)
    solo: bool
    checklist: list[ChecklistItem] = Field(default_factory=list)
    # None when the species question was not asked (human characters).
    species_ok: bool | None = None
    reason: str = ""
    backend: Literal["ollama", "preview"]
    model: str = ""
    # Set when the reviewer could not produce a trustworthy answer; the image then goes to a person.
    error: str | None = None


def decide(result: ReviewResult, *, is_human: bool) -> Decision:
    """Seed rule: < 0.4 reject; >= 0.8 and solo approve, humans only; everything else a person decides."""
    if result.error is not None:
        return "pending"
    if result.quality_score < AUTO_REJECT_BELOW:
        return "rejected"
    if result.species_ok is False:
        return "pending"
    if is_human and result.solo and result.quality_score >= AUTO_APPROVE_FROM:
        return "approved"
    return "pending"
