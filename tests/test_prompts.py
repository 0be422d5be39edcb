"""Prompt building and feedback rules: pure functions over Appearance."""

import pytest

from studio.domain.appearance import Appearance
from studio.domain.feedback_rules import REJECTION_CATEGORIES, correction_hints, learned_negatives
from studio.domain.prompts import (
    NON_HUMAN_NEGATIVES,
    build_negative_prompt,
    build_positive_prompt,
    species_question,
)

MIKA = Appearance(species="human", key_colors={"hair": "#1f2a5c", "eyes": "#c0392b"},
                  common_errors=["long hair", "blue eyes"])
EMBER = Appearance(species="dragon — NOT human", key_colors={"scales": "#aa2200"},
                   common_errors=["feathers"], negatives=["humanoid body"])


def terms(prompt: str) -> list[str]:
    return prompt.split(", ")


# --- negatives ---------------------------------------------------------------------------------

def test_human_negatives_are_style_then_character_negatives_then_errors():
    mika = MIKA.model_copy(update={"negatives": ["glasses"]})
    assert build_negative_prompt("lowres, text", mika) == "lowres, text, glasses, long hair, blue eyes"


def test_humans_get_no_non_human_terms():
    negative = terms(build_negative_prompt("lowres", MIKA))
    assert not set(NON_HUMAN_NEGATIVES) & set(negative)


def test_non_human_negatives_add_human_terms_and_species_terms():
    negative = terms(build_negative_prompt("lowres", EMBER))
    for term in ("human", "human face", "human skin", "realistic person", "bird wings", "beak"):
        assert term in negative
    # the character's own terms come before the generic non-human ones
    assert negative.index("humanoid body") < negative.index("human")


def test_negatives_are_deduplicated_case_insensitively_keeping_the_first_spelling():
    negative = terms(build_negative_prompt("lowres, Feathers, LOWRES", EMBER, ["feathers", "Human Face"]))
    assert negative[:2] == ["lowres", "Feathers"]
    assert [t.lower() for t in negative].count("feathers") == 1
    assert [t.lower() for t in negative].count("lowres") == 1
    assert negative.count("humanoid body") == 1
    assert "Human Face" not in negative and "human face" in negative


def test_learned_negatives_are_appended_last():
    negative = terms(build_negative_prompt("lowres", MIKA, ["extra limbs", "blurry"]))
    assert negative[-2:] == ["extra limbs", "blurry"]


@pytest.mark.parametrize("species,expected", [
    ("turtle — NOT human", "lizard"), ("dinosaur — NOT human", "feathers"),
    ("star-shaped spirit — NOT human", "arms and legs"), ("mushroom — NOT human", "person wearing a hat"),
    ("mouse — NOT human", "rabbit ears"), ("dragon — NOT human", "bird wings"),
])
def test_each_known_species_has_its_own_negatives(species, expected):
    assert expected in terms(build_negative_prompt("", Appearance(species=species)))


@pytest.mark.parametrize("species,own_feature", [("turtle — NOT human", "shell"), ("mushroom — NOT human", "cap"),
                                                 ("dragon — NOT human", "scales")])
def test_species_negatives_never_name_the_species_own_feature(species, own_feature):
    # A negative like "no shell" still says "shell" to CLIP and pushes the shell away.
    assert own_feature not in build_negative_prompt("", Appearance(species=species))


def test_species_is_matched_as_a_whole_word():
    dragonfly = terms(build_negative_prompt("", Appearance(species="dragonfly — NOT human")))
    assert "human" in dragonfly and "bird wings" not in dragonfly


# --- positive prompt ---------------------------------------------------------------------------

def test_positive_prompt_fills_the_template_slot_with_design_and_hints():
    assert build_positive_prompt("masterpiece, {prompt}, anime style", "girl, navy hair", ["solo"]) == \
        "masterpiece, girl, navy hair, solo, anime style"


def test_positive_prompt_without_slot_appends_and_dedupes():
    assert build_positive_prompt("best quality, solo", "girl, Solo", ["solo"]) == "best quality, solo, girl"


def test_positive_prompt_with_empty_design_has_no_dangling_commas():
    assert build_positive_prompt("{prompt}, anime style", "") == "anime style"


# --- species question --------------------------------------------------------------------------

@pytest.mark.parametrize("species,word", [
    ("turtle — NOT human", "shell"), ("dragon — NOT human", "scales"), ("dinosaur — NOT human", "scales"),
    ("mouse (NOT human)", "round mouse ears"), ("mouse — NOT human", "fur"), ("mushroom — NOT human", "cap"),
    ("star-shaped spirit — NOT human", "five points"), ("teapot golem — NOT human", "teapot golem"),
    ("fox — NOT human", "no human face"), ("dragonfly — NOT human", "no human face"),  # whole words only
])
def test_species_question_is_focused(species, word):
    assert word in species_question(Appearance(species=species))


def test_humans_get_no_species_question():
    assert species_question(MIKA) is None
    assert species_question(Appearance(species="elf-like human")) is None


# --- feedback rules ----------------------------------------------------------------------------

def test_rejection_categories_are_the_agreed_strings():
    assert REJECTION_CATEGORIES == ("wrong_species", "off_model_colours", "extra_limbs", "not_solo",
                                    "blurry", "bad_anatomy", "style_drift", "other")


def test_learned_negatives_most_frequent_first_and_stable_on_ties():
    negatives = learned_negatives({"blurry": 1, "extra_limbs": 3}, MIKA)
    assert negatives.index("extra limbs") < negatives.index("blurry")
    # equal counts: category order, whatever the dict order
    assert learned_negatives({"blurry": 2, "not_solo": 2}, MIKA) == \
        learned_negatives({"not_solo": 2, "blurry": 2}, MIKA)
    assert learned_negatives({"blurry": 2, "not_solo": 2}, MIKA).index("crowd") < \
        learned_negatives({"blurry": 2, "not_solo": 2}, MIKA).index("blurry")


def test_learned_negatives_respect_min_count():
    assert learned_negatives({"blurry": 1}, MIKA, min_count=2) == []
    assert "blurry" in learned_negatives({"blurry": 2}, MIKA, min_count=2)
    assert learned_negatives({"other": 5}, MIKA) == []


def test_wrong_species_learns_the_opposite_direction_for_humans_and_non_humans():
    assert "humanoid" in learned_negatives({"wrong_species": 1}, EMBER)
    assert "humanoid" not in learned_negatives({"wrong_species": 1}, MIKA)
    assert "furry" in learned_negatives({"wrong_species": 1}, MIKA)


def test_learned_negatives_reach_the_negative_prompt():
    learned = learned_negatives({"not_solo": 2}, EMBER)
    assert "multiple characters" in terms(build_negative_prompt("lowres", EMBER, learned))


def test_off_model_colours_become_colour_hints_from_key_colors():
    hints = correction_hints({"off_model_colours": 2}, MIKA)
    assert hints[:2] == ["hair colour #1f2a5c", "eyes colour #c0392b"]


def test_other_hints():
    assert correction_hints({"not_solo": 1}, MIKA) == ["solo", "single character"]
    assert correction_hints({"wrong_species": 1}, EMBER)[0] == "(dragon:1.3)"
    assert correction_hints({}, MIKA) == []
    hints = correction_hints({"not_solo": 1, "off_model_colours": 4}, EMBER)
    assert hints.index("scales colour #aa2200") < hints.index("solo")


@pytest.mark.parametrize("rule", [learned_negatives, correction_hints])
def test_unknown_category_is_refused_by_name(rule):
    with pytest.raises(ValueError, match="'too_cute'"):
        rule({"blurry": 1, "too_cute": 1}, MIKA)
