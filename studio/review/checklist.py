"""What the vision model is asked about one image, and the exact shape its answer must have.

Pure functions and constants, no I/O. The schema goes to Ollama as `format` (it constrains the
model's output); `VisionAnswer` checks the answer against the same rules, because a constrained
answer can still be cut off, and a model can still ignore the constraint.
"""

import colorsys

from pydantic import BaseModel, ConfigDict, Field

from studio.domain.appearance import Appearance, species_name
from studio.domain.prompts import species_question

ANSWER_SCHEMA: dict = {
    "type": "object",
    "properties": {
        "quality_score": {"type": "number", "minimum": 0, "maximum": 1},
        "solo": {"type": "boolean"},
        "checklist": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"item": {"type": "string"}, "passed": {"type": "boolean"}},
                "required": ["item", "passed"],
                "additionalProperties": False,
            },
        },
        "species_ok": {"type": ["boolean", "null"]},
        "reason": {"type": "string"},
    },
    "required": ["quality_score", "solo", "checklist", "species_ok", "reason"],
    "additionalProperties": False,
}


class _Strict(BaseModel):
    # Strict: "0.9" is not a number and 1 is not true; nothing is coerced or clamped into shape.
    model_config = ConfigDict(strict=True, extra="forbid")


class AnsweredItem(_Strict):
    item: str
    passed: bool


class VisionAnswer(_Strict):
    """ANSWER_SCHEMA as a validator: every field required, no extras, score within 0..1."""

    quality_score: float = Field(ge=0.0, le=1.0)
    solo: bool
    checklist: list[AnsweredItem]
    species_ok: bool | None
    reason: str


_HUE_NAMES = ((15, "red"), (45, "orange"), (70, "yellow"), (165, "green"), (195, "cyan"),
              (255, "blue"), (290, "purple"), (335, "pink"), (360, "red"))


def colour_words(hex_colour: str) -> str:
    """A rough colour name for "#rrggbb": a vision model checks "dark blue" better than a hex code."""
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    hue, lightness, saturation = colorsys.rgb_to_hls(r, g, b)
    if saturation < 0.15 or lightness < 0.06 or lightness > 0.96:
        return "black" if lightness < 0.2 else "white" if lightness > 0.85 else "grey"
    name = next(word for limit, word in _HUE_NAMES if hue * 360 < limit)
    shade = "dark " if lightness < 0.3 else "light " if lightness > 0.7 else ""
    if name == "red" and shade == "light ":
        return "pink"  # what people call light red
    return shade + name


def build_checklist(appearance: Appearance) -> list[str]:
    """One line per thing to check; each is answered passed=true when the image gets it right."""
    species = species_name(appearance.species)
    article = "an" if species[:1] in tuple("aeiou") else "a"
    items = [f"is {article} {species}" if appearance.is_human else f"is {article} {species}, not a human"]
    items += [f"{part} is {colour_words(colour)} ({colour})" for part, colour in appearance.key_colors.items()]
    items += [f"has {feature}" for feature in appearance.features]
    items += [f"no {error}" for error in appearance.common_errors]
    return items


def build_review_prompt(character_name: str, design_prompt: str, appearance: Appearance) -> str:
    lines = [
        f"You review one generated training image of the anime character {character_name}.",
        f"Design: {design_prompt}",
        "quality_score: 0 to 1, for image quality and faithfulness to the design.",
        "solo: true only if exactly one character is shown.",
        "checklist: answer every item below, in this order, with its text and passed true or false:",
        *(f"- {item}" for item in build_checklist(appearance)),
    ]
    question = species_question(appearance)
    if question:
        lines.append(f"species_ok: true or false. {question}")
    else:
        lines.append("species_ok: null.")
    lines.append("reason: one short sentence. Answer only with JSON.")
    return "\n".join(lines)
