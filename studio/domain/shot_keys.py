"""A shot's identity across edits, reordering and re-import of its spec. Pure: no I/O.

A shot's rendered clip, input hash and seed belong to its key, never to its place in the scene, so
moving shots around keeps what was rendered. A spec may name a shot's key; otherwise the key is
derived from the shot's description (and which occurrence of that description it is, for the rare
scene that repeats one), so it stays the same wherever the shot moves. Editing the description of a
shot without an explicit key makes it a new shot: give it a `key` to keep its clip through such edits.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Iterable

SHOT_KEY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
_WORDS = 4  # of the description, to make a key a person can recognise in paths and the API


def normalized_description(description: str) -> str:
    """What counts as the same description: case and spacing do not."""
    return " ".join(description.split()).casefold()


def derived_shot_key(description: str, occurrence: int = 1) -> str:
    """`occurrence`: 1 for the first shot with this description in its scene, 2 for the next ..."""
    text = normalized_description(description)
    words = re.findall(r"[a-z0-9]+", text)[:_WORDS]
    digest = hashlib.sha256(f"{text}#{occurrence}".encode()).hexdigest()[:8]
    return "-".join([*words, digest])


def shot_keys(shots: Iterable[tuple[str | None, str]]) -> list[str]:
    """The key of each (explicit key or None, description) of one scene, in order."""
    seen: Counter = Counter()
    keys = []
    for explicit, description in shots:
        seen[normalized_description(description)] += 1
        keys.append(explicit or derived_shot_key(description, seen[normalized_description(description)]))
    return keys


def free_derived_key(description: str, taken: set[str]) -> str:
    """The key of a shot added to a scene whose shots hold `taken`: the next occurrence of its description.

    A scene built one shot at a time (through the API) so gets the keys its spec import would give.
    """
    occurrence = 1
    while (key := derived_shot_key(description, occurrence)) in taken:
        occurrence += 1
    return key


def duplicate_keys(keys: list[str]) -> list[tuple[int, str]]:
    """(index, key) of every key already used earlier in the same scene."""
    first: set[str] = set()
    found = []
    for index, key in enumerate(keys):
        if key in first:
            found.append((index, key))
        first.add(key)
    return found
