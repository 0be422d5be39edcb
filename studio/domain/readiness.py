"""Whether a character's dataset is ready: the rule the replenishment sensor, the approved-images
asset and LoRA training share."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetReadiness:
    approved: int
    target: int

    @property
    def missing(self) -> int:
        """Approved images still needed to reach the target (never negative)."""
        return max(0, self.target - self.approved)

    @property
    def ready(self) -> bool:
        return self.approved >= self.target


def dataset_readiness(approved: int, target: int) -> DatasetReadiness:
    if approved < 0 or target < 0:
        raise ValueError(f"counts cannot be negative (approved={approved}, target={target})")
    return DatasetReadiness(approved=approved, target=target)
