"""The seed rule in studio.domain.review.decide, at its boundaries."""

import pytest
from pydantic import ValidationError

from studio.domain.review import AUTO_APPROVE_FROM, AUTO_REJECT_BELOW, ReviewResult, decide


def result(score, solo=True, species_ok=None, error=None, backend="ollama"):
    return ReviewResult(quality_score=score, solo=solo, species_ok=species_ok, error=error, backend=backend)


def test_the_thresholds_are_the_seed_systems():
    assert (AUTO_REJECT_BELOW, AUTO_APPROVE_FROM) == (0.4, 0.8)


@pytest.mark.parametrize("score,expected", [(0.0, "rejected"), (0.39, "rejected"), (0.3999, "rejected"),
                                            (0.4, "pending"), (0.79, "pending"), (0.7999, "pending"),
                                            (0.8, "approved"), (1.0, "approved")])
def test_thresholds_for_a_solo_human(score, expected):
    assert decide(result(score), is_human=True) == expected


@pytest.mark.parametrize("score,expected", [(0.39, "rejected"), (0.4, "pending"), (0.8, "pending"),
                                            (1.0, "pending")])
def test_not_solo_is_never_approved_but_can_be_rejected(score, expected):
    assert decide(result(score, solo=False), is_human=True) == expected


@pytest.mark.parametrize("species_ok", [None, True])
@pytest.mark.parametrize("score,expected", [(0.1, "rejected"), (0.39, "rejected"), (0.4, "pending"),
                                            (0.8, "pending"), (0.99, "pending"), (1.0, "pending")])
def test_a_non_human_is_never_auto_approved_but_can_be_auto_rejected(score, expected, species_ok):
    assert decide(result(score, species_ok=species_ok), is_human=False) == expected


@pytest.mark.parametrize("is_human", [True, False])
def test_a_failed_species_check_goes_to_a_person(is_human):
    assert decide(result(0.95, species_ok=False), is_human=is_human) == "pending"
    # A low score still rejects: the species answer only holds back an approval.
    assert decide(result(0.2, species_ok=False), is_human=is_human) == "rejected"


@pytest.mark.parametrize("score", [0.0, 0.39, 0.5, 0.8, 1.0])
@pytest.mark.parametrize("is_human", [True, False])
def test_a_reviewer_error_always_goes_to_a_person(score, is_human):
    # Neither approved (a high placeholder score) nor rejected (the 0.0 an error result carries).
    assert decide(result(score, error="no usable answer"), is_human=is_human) == "pending"


def test_the_same_rule_applies_to_the_preview_reviewer():
    assert decide(result(0.85, backend="preview"), is_human=True) == "approved"
    assert decide(result(0.85, backend="preview"), is_human=False) == "pending"


@pytest.mark.parametrize("score", [-0.01, 1.01])
def test_a_score_outside_0_to_1_is_not_a_review_result(score):
    with pytest.raises(ValidationError):
        result(score)
