"""Dataset readiness: the one rule for "enough approved images"."""

import pytest

from studio.domain.readiness import dataset_readiness


def test_below_target_is_not_ready_and_says_how_many_are_missing():
    readiness = dataset_readiness(approved=7, target=12)
    assert (readiness.ready, readiness.missing) == (False, 5)


def test_at_or_over_target_is_ready_with_nothing_missing():
    assert (dataset_readiness(12, 12).ready, dataset_readiness(12, 12).missing) == (True, 0)
    assert (dataset_readiness(20, 12).ready, dataset_readiness(20, 12).missing) == (True, 0)


def test_a_target_of_zero_is_ready_at_once():
    assert dataset_readiness(0, 0).ready


def test_negative_counts_are_refused():
    with pytest.raises(ValueError, match="negative"):
        dataset_readiness(-1, 3)
