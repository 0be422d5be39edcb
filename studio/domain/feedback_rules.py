"""Turning a person's rejection reasons into changes of the next generation. Pure functions."""

from __future__ import annotations

from studio.domain.appearance import NON_HUMAN_MARKER, Appearance, species_name

# The reasons a person can give for a rejection: the API validates against these (studio.review.decisions),
# the review page offers them (api/static/review.js; tests/test_rules_agree.py checks the two agree).
REJECTION_CATEGORIES = (
    "wrong_species", "off_model_colours", "extra_limbs", "not_solo",
    "blurry", "bad_anatomy", "style_drift", "other",
)

_NEGATIVES: dict[str, tuple[str, ...]] = {
    "extra_limbs": ("extra limbs", "extra arms", "extra legs", "extra fingers"),
    "not_solo": ("multiple characters", "crowd", "2girls", "2boys", "duplicate"),
    "blurry": ("blurry", "out of focus", "motion blur"),
    "bad_anatomy": ("bad anatomy", "deformed", "distorted proportions"),
    "style_drift": ("3d render", "photorealistic", "western cartoon"),
    "off_model_colours": ("wrong colours", "colour shift", "monochrome"),
    # "other" is free text a person reads; there is nothing generic to learn from it.
    "other": (),
}

# A non-human drawn as a person, or a human drawn as a creature: the fix points the other way.
_WRONG_SPECIES_NON_HUMAN = ("human", "humanoid", "person in costume")
_WRONG_SPECIES_HUMAN = ("animal", "furry", "anthro", "monster")

_HINTS: dict[str, tuple[str, ...]] = {
    "not_solo": ("solo", "single character"),
    "blurry": ("sharp focus", "clean lineart"),
    "extra_limbs": ("correct number of limbs",),
    "bad_anatomy": ("correct anatomy", "well-proportioned"),
    "style_drift": ("anime style", "cel shading"),
}


def check_rejection_categories(categories) -> None:
    """ValueError naming the first category that is not one of REJECTION_CATEGORIES."""
    for category in categories:
        if category not in REJECTION_CATEGORIES:
            raise ValueError(f"unknown rejection category {category!r} (known: {', '.join(REJECTION_CATEGORIES)})")


def _by_frequency(category_counts: dict[str, int], min_count: int) -> list[str]:
    """Most frequent first; ties in REJECTION_CATEGORIES order, so the result never depends on dict order."""
    ordered = sorted(category_counts.items(), key=lambda kv: (-kv[1], REJECTION_CATEGORIES.index(kv[0])))
    return [category for category, count in ordered if count >= min_count]


def _unique(terms: list[str]) -> list[str]:
    return list(dict.fromkeys(terms))


def learned_negatives(category_counts: dict[str, int], appearance: Appearance, min_count: int = 1) -> list[str]:
    """Negatives learned from rejections, most frequent reason first."""
    check_rejection_categories(category_counts)
    terms: list[str] = []
    for category in _by_frequency(category_counts, min_count):
        if category == "wrong_species":
            terms += _WRONG_SPECIES_HUMAN if appearance.is_human else _WRONG_SPECIES_NON_HUMAN
        terms += _NEGATIVES.get(category, ())
    return _unique(terms)


def correction_hints(category_counts: dict[str, int], appearance: Appearance, min_count: int = 1) -> list[str]:
    """Positive-prompt phrases that steer away from what was rejected, most frequent reason first."""
    check_rejection_categories(category_counts)
    hints: list[str] = []
    for category in _by_frequency(category_counts, min_count):
        if category == "off_model_colours":
            hints += [f"{part} colour {colour}" for part, colour in appearance.key_colors.items()]
        elif category == "wrong_species":
            hints += _species_emphasis(appearance)
        else:
            hints += _HINTS.get(category, ())
    return _unique(hints)


def _species_emphasis(appearance: Appearance) -> list[str]:
    if appearance.is_human:
        return ["(human:1.2)"]
    species = species_name(appearance.species)
    if not species or species == NON_HUMAN_MARKER:
        return ["non-human creature"]
    # Prompt weighting syntax: lifts the species word above the style's human-leaning defaults.
    return [f"({species}:1.3)", "non-human creature"]
