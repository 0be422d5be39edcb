"""Turning a person's rejection reasons into changes of the next generation. Pure functions."""

from __future__ import annotations

from studio.domain.appearance import Appearance, species_name

REJECTION_CATEGORIES = (
    "wrong_species", "off_model_colours", "extra_limbs", "not_solo",
    "blurry", "bad_anatomy", "style_drift", "other",
)

_NEGATIVES = {
    "extra_limbs": ("extra limbs", "extra arms", "extra legs", "extra fingers"),
    "not_solo": ("multiple characters", "crowd", "2girls", "2boys", "duplicate"),
    "blurry": ("blurry", "out of focus", "motion blur"),
    "bad_anatomy": ("bad anatomy", "deformed", "distorted proportions"),
    "style_drift": ("3d render", "photorealistic", "western cartoon"),
    "off_model_colours": ("wrong colours", "colour shift"),
    "other": (),
}


def _check(category_counts: dict[str, int]) -> None:
    for category in category_counts:
        if category not in REJECTION_CATEGORIES:
            raise ValueError(f"unknown rejection category {category!r}")


def _by_frequency(category_counts: dict[str, int], min_count: int) -> list[str]:
    ordered = sorted(category_counts.items(), key=lambda kv: (-kv[1], REJECTION_CATEGORIES.index(kv[0])))
    return [c for c, n in ordered if n >= min_count]


def learned_negatives(category_counts: dict[str, int], appearance: Appearance, min_count: int = 1) -> list[str]:
    """Negatives learned from rejections, most frequent reason first."""
    _check(category_counts)
    terms: list[str] = []
    for category in _by_frequency(category_counts, min_count):
        if category == "wrong_species" and not appearance.is_human:
            terms += ["human", "humanoid", "person in costume"]
        terms += _NEGATIVES.get(category, ())
    return terms


def correction_hints(category_counts: dict[str, int], appearance: Appearance, min_count: int = 1) -> list[str]:
    """Positive-prompt phrases that steer away from what was rejected."""
    _check(category_counts)
    hints: list[str] = []
    for category in _by_frequency(category_counts, min_count):
        if category == "off_model_colours":
            hints += [f"{part} colour {colour}" for part, colour in appearance.key_colors.items()]
        elif category == "wrong_species":
            hints.append(f"(clearly a {species_name(appearance.species)}:1.2)")
        elif category == "not_solo":
            hints += ["solo", "single character"]
        elif category == "blurry":
            hints += ["sharp focus", "clean lineart"]
        elif category == "extra_limbs":
            hints.append("correct number of limbs")
    return hints
