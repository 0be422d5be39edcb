import pytest

from studio.domain.review import ReviewResult, decide


def result(score, solo=True, species_ok=None, error=None):
    return ReviewResult(quality_score=score, solo=solo, species_ok=species_ok, error=error, backend="preview")


@pytest.mark.parametrize("score,expected", [(0.0, "rejected"), (0.39, "rejected"), (0.4, "pending"),
                                            (0.79, "pending"), (0.8, "approved"), (1.0, "approved")])
def test_thresholds_for_a_solo_human(score, expected):
    assert decide(result(score), is_human=True) == expected


def test_not_solo_goes_to_a_person():
    assert decide(result(0.95, solo=False), is_human=True) == "pending"


def test_non_human_is_never_auto_approved_but_can_be_auto_rejected():
    assert decide(result(0.99, species_ok=True), is_human=False) == "pending"
    assert decide(result(0.1), is_human=False) == "rejected"


def test_failed_species_check_and_reviewer_errors_go_to_a_person():
    assert decide(result(0.95, species_ok=False), is_human=True) == "pending"
    assert decide(result(0.0, error="timeout"), is_human=True) == "pending"
