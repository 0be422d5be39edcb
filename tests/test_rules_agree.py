"""Rules that must also be written outside Python agree with their one Python definition."""

from __future__ import annotations

import re

import pytest

from studio.domain.appearance import NON_HUMAN_MARKER, Appearance, is_human_species
from studio.domain.feedback_rules import REJECTION_CATEGORIES
from studio.review.queries import NON_HUMAN_SQL
from tests.conftest import REPO

SPECIES = [
    "human", "dragon — NOT human", "mouse (NOT human)", "Not Human", "NOT HUMAN spirit", "elf-like human",
    "nothuman", "not  human", "not_human", "not%human", "", "teapot golem — not human", "humanoid robot",
]


@pytest.mark.parametrize("species", SPECIES)
async def test_the_review_queue_filter_finds_the_same_non_humans_as_python(db, species):
    non_human = await db.fetchval(f"SELECT {NON_HUMAN_SQL} FROM (SELECT $1::jsonb AS appearance_data) c",
                                  {"species": species})
    assert non_human is (not is_human_species(species))


async def test_a_character_without_a_species_is_human_in_both(db):
    non_human = await db.fetchval(f"SELECT {NON_HUMAN_SQL} FROM (SELECT '{{}}'::jsonb AS appearance_data) c")
    assert non_human is False and Appearance.model_validate({}).is_human


def test_the_marker_goes_into_like_unescaped_safely():
    assert not set(NON_HUMAN_MARKER) & set("%_\\'")


def test_the_review_page_offers_exactly_the_rejection_categories():
    script = (REPO / "api" / "static" / "review.js").read_text()
    block = re.search(r"const CATEGORIES = \[(.*?)\n\];", script, re.S)
    assert block is not None, "review.js no longer declares CATEGORIES"
    assert tuple(re.findall(r'\["(\w+)",', block[1])) == REJECTION_CATEGORIES
