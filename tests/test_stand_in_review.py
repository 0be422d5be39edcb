"""The demo's stand-in for a person: what it decides from the automatic review's findings."""

from studio.domain.review import ChecklistItem, ReviewResult
from studio.domain.stand_in_review import stand_in_verdict


def _review(**changes) -> ReviewResult:
    values = {"quality_score": 1.0, "solo": True, "backend": "preview", "species_ok": None,
              "checklist": [ChecklistItem(item="scales colour #e8642a", passed=True),
                            ChecklistItem(item="sharp", passed=True), ChecklistItem(item="well exposed", passed=True)]}
    return ReviewResult(**{**values, **changes})


def test_a_clean_review_of_a_non_human_is_approved():
    assert stand_in_verdict(_review()).decision == "approved"


def test_what_the_reviewer_found_becomes_the_reasons_a_person_would_tick():
    verdict = stand_in_verdict(_review(solo=False, species_ok=False, checklist=[
        ChecklistItem(item="scales colour #e8642a", passed=False), ChecklistItem(item="sharp", passed=False),
        ChecklistItem(item="eyes colour #2c8f6e", passed=False)]))
    assert verdict.decision == "rejected"
    assert verdict.categories == ("wrong_species", "not_solo", "off_model_colours", "blurry")


def test_a_middling_score_with_nothing_named_is_rejected_as_other():
    assert stand_in_verdict(_review(quality_score=0.6)).categories == ("other",)


def test_a_review_that_failed_is_left_for_a_real_person():
    assert stand_in_verdict(_review(error="ollama timed out")).decision == "pending"
