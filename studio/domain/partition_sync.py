"""What to add to and remove from a dynamic partition set so it mirrors the database."""

from __future__ import annotations


def partition_changes(existing: list[str], wanted: list[str]) -> tuple[list[str], list[str]]:
    """Return (to_add, to_remove), each sorted so sensor ticks are reproducible."""
    have, want = set(existing), set(wanted)
    return sorted(want - have), sorted(have - want)
