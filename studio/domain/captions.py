"""Training captions: the trigger word, then tags a person would check in the picture. Pure, no I/O.

kohya reads one `.txt` per image; the trigger word comes first so `keep_tokens = 1` keeps it in place
when captions are shuffled. Tags come from the character's appearance data, narrowed by the image's
own review: a feature the reviewer found missing is not captioned (a caption describes the picture).
With the live backend the vision model may name the tags instead (`caption_from_tags`).
"""

from __future__ import annotations

import re

from studio.domain.appearance import Appearance, species_name
from studio.domain.review import ChecklistItem
from studio.review.checklist import colour_words


def trigger_word(slug: str) -> str:
    """A token no base model knows: the slug with an `_sts` suffix, word characters only."""
    return re.sub(r"\W+", "_", slug.lower()).strip("_") + "_sts"


def class_token(appearance: Appearance) -> str:
    return species_name(appearance.species) or "character"


MAX_TAGS = 24
MAX_TAG_CHARS = 60


def caption_from_tags(trigger: str, tags: list) -> str:
    """The trigger word, then a model's tags made safe for kohya: one line, a comma inside a tag (kohya's
    separator) splits it in two, no empty or repeated tag, none too long, at most MAX_TAGS. ValueError
    if none is left."""
    unique: list[str] = []
    pieces = [piece for tag in tags if isinstance(tag, str) for piece in re.split(r"[,\n\r]+", tag)]
    for piece in pieces:
        words = " ".join(piece.split()).strip(" .;:")
        if words and len(words) <= MAX_TAG_CHARS and words.lower() != trigger and words not in unique:
            unique.append(words)
    if not unique:
        raise ValueError("no usable tag in the answer")
    return ", ".join([trigger, *unique[:MAX_TAGS]])


def build_caption(trigger: str, appearance: Appearance, checklist: list[ChecklistItem] | None = None,
                  *, solo: bool | None = None) -> str:
    failed = {item.item.strip().lower() for item in checklist or [] if not item.passed}
    tags = [trigger]
    if solo:
        tags.append("solo")
    tags.append(species_name(appearance.species))
    for part, colour in appearance.key_colors.items():
        if f"{part} is {colour_words(colour)} ({colour})".lower() not in failed:
            tags.append(f"{colour_words(colour)} {part}")
    for feature in appearance.features:
        if f"has {feature}".lower() not in failed:
            tags.append(feature)
    unique: list[str] = []
    for tag in (t.strip() for t in tags):
        if tag and tag not in unique:
            unique.append(tag.replace(",", " "))
    return ", ".join(unique)
