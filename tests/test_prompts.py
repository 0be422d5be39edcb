import pytest

from studio.domain.appearance import Appearance
from studio.domain.feedback_rules import REJECTION_CATEGORIES, correction_hints, learned_negatives
from studio.domain.prompts import build_negative_prompt, build_positive_prompt, species_question

MIKA = Appearance(species="human", key_colors={"hair": "#1f2a5c"}, common_errors=["long hair", "blue eyes"])
EMBER = Appearance(species="dragon — NOT human", common_errors=["feathers"], negatives=["humanoid body"])


def test_human_negatives_are_style_then_character_errors():
    assert build_negative_prompt("lowres, text", MIKA) == "lowres, text, long hair, blue eyes"


def test_non_human_negatives_add_human_terms_and_species_terms_once():
    negative = build_negative_prompt("lowres, Feathers", EMBER, ["extra limbs"])
    terms = negative.split(", ")
    assert terms[:2] == ["lowres", "Feathers"]  # first spelling wins, order kept
    assert [t.lower() for t in terms].count("feathers") == 1
    assert terms.count("humanoid body") == 1
    for term in ("human", "human face", "human skin", "realistic person", "bird wings"):
        assert term in terms
    assert terms[-1] == "extra limbs"


@pytest.mark.parametrize("species,word", [("turtle — NOT human", "shell"), ("dragon — NOT human", "scales"),
                                           ("mouse — NOT human", "ears"), ("mushroom — NOT human", "cap"),
                                           ("star-shaped spirit — NOT human", "five-pointed"),
                                           ("teapot golem — NOT human", "teapot golem")])
def test_species_question_is_focused(species, word):
    assert word in species_question(Appearance(species=species))


def test_humans_get_no_species_question():
    assert species_question(MIKA) is None


def test_positive_prompt_fills_the_template_and_appends_hints():
    assert build_positive_prompt("best, {prompt}", "girl, navy hair", ["solo"]) == "best, girl, navy hair, solo"
    assert build_positive_prompt("best quality", "girl") == "best quality, girl"


def test_feedback_turns_into_negatives_most_frequent_first():
    negatives = learned_negatives({"blurry": 1, "extra_limbs": 3}, MIKA)
    assert negatives.index("extra limbs") < negatives.index("blurry")
    assert learned_negatives({"blurry": 1}, MIKA, min_count=2) == []
    assert "humanoid" in learned_negatives({"wrong_species": 1}, EMBER)


def test_feedback_turns_into_hints():
    assert "hair colour #1f2a5c" in correction_hints({"off_model_colours": 2}, MIKA)
    assert "solo" in correction_hints({"not_solo": 1}, MIKA)


def test_unknown_category_is_refused_by_name():
    with pytest.raises(ValueError, match="'too_cute'"):
        learned_negatives({"too_cute": 1}, MIKA)
    assert len(REJECTION_CATEGORIES) == 8
