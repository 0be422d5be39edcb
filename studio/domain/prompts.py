"""Positive and negative prompts for character images. Pure functions, no I/O."""

from __future__ import annotations

import re
from typing import Iterable

from studio.domain.appearance import NON_HUMAN_MARKER, Appearance, species_name

NON_HUMAN_NEGATIVES = ("human", "human face", "human skin", "realistic person")

# What generators drift into for each species (carried over from the seed system and extended).
# Never name the species' own features here, not even negated ("no shell"): CLIP reads the word,
# so a negative "no shell" pushes the shell away.
SPECIES_NEGATIVES: dict[str, tuple[str, ...]] = {
    "turtle": ("frog", "lizard", "snake", "humanoid body", "human hands", "fur"),
    "dinosaur": ("feathers", "bird", "beak", "dragon wings", "humanoid body", "fur"),
    "star-shaped": ("humanoid body", "arms and legs", "human hands", "round body", "six-pointed star"),
    "mushroom": ("humanoid body", "human hands", "person wearing a hat", "flower", "tree"),
    "mouse": ("rat", "cat ears", "rabbit ears", "human ears", "humanoid body", "hairless skin"),
    "dragon": ("feathers", "bird wings", "beak", "fur", "humanoid body", "human hands"),
}

# What a generator most often leaves out of each species: the vision model is asked about exactly that.
SPECIES_QUESTIONS = {
    "turtle": "Does the character have a turtle shell on its back?",
    "dragon": "Is the character covered in scales, with a reptilian dragon snout (not a human face)?",
    "dinosaur": "Is the character covered in scales, with a reptilian dinosaur head (not a human face)?",
    "mouse": "Is the character covered in fur, with round mouse ears and a mouse snout?",
    "mushroom": "Is the character a mushroom with a cap on top (not a person wearing a hat)?",
    "star-shaped": "Is the character's body a star with exactly five points (no human arms or legs)?",
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
    """The style template with the design (and correction hints) in its `{prompt}` slot, or after it."""
    content = ", ".join([*split_terms(design_prompt), *hints])
    if "{prompt}" in style_template:
        filled = style_template.replace("{prompt}", content)
    else:
        filled = f"{style_template}, {content}"
    return ", ".join(unique_terms(split_terms(filled)))


def species_key(appearance: Appearance) -> str | None:
    """Which known species the character is ("dragon" for "red dragon — NOT human"), if any.

    Whole words only, so a "dragonfly" is not taken for a dragon.
    """
    species = species_name(appearance.species)
    for key in SPECIES_NEGATIVES:
        if re.search(rf"(?<![\w-]){re.escape(key)}(?![\w-])", species):
            return key
    return None


def species_negatives(appearance: Appearance) -> list[str]:
    if appearance.is_human:
        return []
    return [*NON_HUMAN_NEGATIVES, *SPECIES_NEGATIVES.get(species_key(appearance), ())]


def build_negative_prompt(style_negative: str, appearance: Appearance, learned: Iterable[str] = ()) -> str:
    terms = [
        *split_terms(style_negative),
        *appearance.negatives,
        *appearance.common_errors,
        *species_negatives(appearance),
        *learned,
    ]
    # Appearance lists and learned terms may themselves hold "a, b": split them like the style.
    return ", ".join(unique_terms(t for term in terms for t in split_terms(term)))


def species_question(appearance: Appearance) -> str | None:
    """A focused question for the vision model; None for human characters."""
    if appearance.is_human:
        return None
    key = species_key(appearance)
    if key:
        return SPECIES_QUESTIONS[key]
    species = species_name(appearance.species)
    what = "a non-human creature" if not species or species == NON_HUMAN_MARKER else f"a {species}"
    return f"Is the character clearly {what}, with no human face, human skin or human body?"
