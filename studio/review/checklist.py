"""What the vision model is asked about one image: checklist, species question, answer schema."""

from __future__ import annotations

from studio.domain.appearance import Appearance
from studio.domain.prompts import species_question

ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "quality_score": {"type": "number", "minimum": 0, "maximum": 1},
        "solo": {"type": "boolean"},
        "checklist": {
            "type": "array",
            "items": {"type": "object", "properties": {"item": {"type": "string"}, "passed": {"type": "boolean"}},
                      "required": ["item", "passed"]},
        },
        "species_ok": {"type": ["boolean", "null"]},
        "reason": {"type": "string"},
    },
    "required": ["quality_score", "solo", "checklist", "species_ok", "reason"],
}


def build_checklist(appearance: Appearance) -> list[str]:
    items = [f"species is {appearance.species}"] if not appearance.is_human else []
    items += [f"{part} is the colour {colour}" for part, colour in appearance.key_colors.items()]
    items += [f"has {feature}" for feature in appearance.features]
    items += [f"does NOT show: {error}" for error in appearance.common_errors]
    return items


def build_review_prompt(character_name: str, design_prompt: str, appearance: Appearance) -> str:
    lines = [
        f"You review a generated training image of the anime character {character_name}.",
        f"Design: {design_prompt}.",
        "Score overall quality and faithfulness to the design from 0 to 1, say whether exactly one "
        "character is shown (solo), and answer each checklist item with passed true or false:",
        *(f"- {item}" for item in build_checklist(appearance)),
    ]
    question = species_question(appearance)
    if question:
        lines.append(f"Species check (answer in species_ok): {question}")
    else:
        lines.append("species_ok: null (human character).")
    lines.append("Give a short reason. Answer only with JSON matching the schema.")
    return "\n".join(lines)
