"""What a character looks like, as stored in `characters.appearance_data` (jsonb).

Generation (negatives), the vision checklist and the preview drawer all read this one shape.
"""

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# A species text containing this (any case) is a non-human character, e.g. "dragon — NOT human": the
# seed system's convention. SQL filters derive from it (studio.review.queries.NON_HUMAN_SQL).
NON_HUMAN_MARKER = "not human"


class Appearance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Free text, e.g. "human" or "dragon — NOT human". The marker "NOT human" is what makes a
    # character non-human for negatives and review (the seed system's convention).
    species: str = "human"
    # Named colours the reviewer checks and the preview drawer paints, e.g. {"hair": "#2b1d4e"}.
    # The pattern is also stated in the JSON schema (API documents, fuzzers); the validator below
    # keeps its own message, which names the colour.
    key_colors: dict[str, str] = Field(default_factory=dict, json_schema_extra={
        "additionalProperties": {"type": "string", "pattern": HEX_COLOUR.pattern}})
    # Visible traits the checklist asks about, e.g. ["short horns", "red scarf"].
    features: list[str] = Field(default_factory=list)
    # Mistakes generators make for this character; they become negatives and checklist items.
    common_errors: list[str] = Field(default_factory=list)
    # Extra negatives the creator wants for this character.
    negatives: list[str] = Field(default_factory=list)

    @field_validator("key_colors")
    @classmethod
    def _colours_are_hex(cls, value: dict[str, str]) -> dict[str, str]:
        for name, colour in value.items():
            if not HEX_COLOUR.match(colour):
                raise ValueError(f"key_colors.{name}: {colour!r} is not a #rrggbb colour")
        return value

    @property
    def is_human(self) -> bool:
        return is_human_species(self.species)


def is_human_species(species: str) -> bool:
    return NON_HUMAN_MARKER not in species.lower()


def species_name(species: str) -> str:
    """The bare species word: "dragon — NOT human" -> "dragon"."""
    # Split at a spaced dash or a bracket, not inside hyphenated words like "star-shaped".
    head = re.split(r"\s[—–-]\s|[—–(,]", species, maxsplit=1)[0]
    return head.strip().lower()
