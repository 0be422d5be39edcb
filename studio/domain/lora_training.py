"""Rules of LoRA training: how often each image is repeated, what identifies a dataset snapshot, and
whether a newly trained checkpoint replaces the character's active one. Pure, no I/O."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

# Image-steps per epoch a small character dataset is stretched to: with 10-20 images kohya users
# repeat each image 5-10 times, so an epoch is long enough for its loss average to mean something.
IMAGES_PER_EPOCH = 100
MAX_REPEATS = 20


def num_repeats(image_count: int, *, images_per_epoch: int = IMAGES_PER_EPOCH,
                max_repeats: int = MAX_REPEATS) -> int:
    """kohya's `num_repeats` for a subset of `image_count` images: about `images_per_epoch` image
    steps per epoch, at least 1 and at most `max_repeats`."""
    if image_count <= 0:
        raise ValueError(f"image_count must be positive to train, got {image_count}")
    return max(1, min(max_repeats, math.ceil(images_per_epoch / image_count)))


@dataclass(frozen=True)
class SnapshotEntry:
    image_id: int
    sha256: str  # of the image bytes
    caption: str


def snapshot_hash(entries: list[SnapshotEntry]) -> str:
    """The content hash of a training dataset: image ids, their bytes (as sha256) and their captions.

    Order does not matter; any change to an image, its caption or the set changes the hash.
    """
    canonical = sorted((e.image_id, e.sha256, e.caption) for e in entries)
    return hashlib.sha256(json.dumps(canonical, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class GateDecision:
    activate: bool
    reason: str


def sample_gate(new_score: float | None, active_score: float | None, *, has_active: bool) -> GateDecision:
    """Whether a new checkpoint becomes the character's active LoRA: the first one always does; a
    later one only when its samples scored strictly better than the active one's."""
    if new_score is None:
        return GateDecision(False, "no sample scores: the checkpoint was not reviewed")
    if not has_active:
        return GateDecision(True, "first checkpoint of this character")
    if active_score is None or new_score > active_score:
        previous = "unscored" if active_score is None else f"{active_score:.3f}"
        return GateDecision(True, f"samples scored {new_score:.3f}, better than the active {previous}")
    return GateDecision(False, f"samples scored {new_score:.3f}, not better than the active {active_score:.3f}")


def sample_quality(scores: list[float]) -> float | None:
    """One quality figure for a checkpoint: the mean of its sample scores (None without samples)."""
    return sum(scores) / len(scores) if scores else None
