"""What the demo decides, in place of a person, about an image the automatic review left pending.

A non-human character is never auto-approved: the species question is a person's. The demo has no
person, so it answers the way the review page's user would with the reviewer's findings in front of
them: approve when the reviewer found nothing wrong, reject with the reason categories a person would
tick for what it found, and leave alone what the reviewer could not judge at all (its error).
Pure: no database, no Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.domain.review import AUTO_APPROVE_FROM, ReviewResult

# Checklist items of both reviewers, by how they begin, and the category a person gives for them.
_CATEGORY_OF_ITEM = (("sharp", "blurry"), ("well exposed", "other"))
_COLOUR_ITEM = "colour"


@dataclass(frozen=True)
class StandInVerdict:
    decision: str  # "approved", "rejected" or "pending" (left for a real person)
    categories: tuple[str, ...] = ()


def _category(item: str) -> str:
    if _COLOUR_ITEM in item:
        return "off_model_colours"
    for start, category in _CATEGORY_OF_ITEM:
        if item.startswith(start):
            return category
    return "other"


def stand_in_verdict(review: ReviewResult) -> StandInVerdict:
    if review.error is not None:
        return StandInVerdict("pending")
    categories: list[str] = []
    if review.species_ok is False:
        categories.append("wrong_species")
    if not review.solo:
        categories.append("not_solo")
    categories += [_category(c.item) for c in review.checklist if not c.passed]
    if not categories and review.quality_score < AUTO_APPROVE_FROM:
        categories.append("other")
    if categories:
        return StandInVerdict("rejected", tuple(dict.fromkeys(categories)))
    return StandInVerdict("approved")
