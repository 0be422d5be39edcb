"""Positive and negative prompts for character images. Pure functions, no I/O."""

from __future__ import annotations

from typing import Iterable

from studio.domain.appearance import Appearance, species_name

NON_HUMAN_NEGATIVES = ("human", "human face", "human skin", "realistic person")

# What generators drift into for each species (carried over from the seed system and extended).
SPECIES_NEGATIVES: dict[str, tuple[str, ...]] = {
    "turtle": ("no shell", "shell-less", "frog", "lizard", "humanoid body"),
    "dinosaur": ("feathers", "bird", "dragon wings", "humanoid body", "furry"),
    "star-shaped": ("humanoid body", "arms and legs", "human hands", "round blob", "six points"),
    "mushroom": ("humanoid body", "human hands", "flower", "tree", "no cap"),
    "mouse": ("rat tail too long", "human ears", "humanoid body", "cat", "rabbit ears"),
    "dragon": ("feathers", "bird wings", "humanoid body", "human hands", "long snake body"),
}


def split_terms(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def unique_terms(terms: Iterable[str]) -> list[str]:
    """First occurrence wins, compared case-insensitively; order otherwise kept."""
    seen: set[str] = set()
    out = []
    for term in terms:
        key = term.strip().lower()
        if key and key not in seen:
            seen.add(key)
            out.append(term.strip())
    return out


def build_positive_prompt(style_template: str, design_prompt: str, hints: Iterable[str] = ()) -> str:
    hinted = ", ".join(unique_terms([*split_terms(design_prompt), *hints]))
    if "{prompt}" in style_template:
        return style_template.replace("{prompt}", hinted)
    return ", ".join(unique_terms([*split_terms(style_template), *split_terms(hinted)]))


def species_negatives(appearance: Appearance) -> list[str]:
    if appearance.is_human:
        return []
    species = species_name(appearance.species)
    specific = next((terms for key, terms in SPECIES_NEGATIVES.items() if key in species), ())
    return [*NON_HUMAN_NEGATIVES, *specific]


def build_negative_prompt(style_negative: str, appearance: Appearance, learned: Iterable[str] = ()) -> str:
    terms = [
        *split_terms(style_negative),
        *appearance.negatives,
        *appearance.common_errors,
        *species_negatives(appearance),
        *learned,
    ]
    return ", ".join(unique_terms(terms))


SPECIES_QUESTIONS = {
    "turtle": "Does the character have a turtle shell on its back?",
    "dragon": "Is the character covered in scales, with a reptilian dragon snout (not a human face)?",
    "dinosaur": "Is the character a scaly dinosaur with a reptilian head (not a human face)?",
    "mouse": "Is the character a furry mouse with round mouse ears and a mouse snout?",
    "mushroom": "Is the character a mushroom with a cap on top (not a person wearing a hat)?",
    "star-shaped": "Is the character's body a five-pointed star (no human limbs)?",
}


def species_question(appearance: Appearance) -> str | None:
    """A focused question for the vision model; None for human characters."""
    if appearance.is_human:
        return None
    species = species_name(appearance.species)
    for key, question in SPECIES_QUESTIONS.items():
        if key in species:
            return question
    return f"Is the character clearly a {species}, and not a human or a human in costume?"
