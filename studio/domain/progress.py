"""Progress of a step, as a person wants to read it: done of total, and when it will be finished.
Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    elapsed_s: float  # from the step's start to the latest update

    @property
    def fraction(self) -> float:
        return 1.0 if self.total == 0 else min(1.0, self.done / self.total)

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the pace so far; None before the first item is done."""
        if self.done >= self.total:
            return 0.0
        if self.done == 0 or self.elapsed_s <= 0:
            return None
        return self.elapsed_s / self.done * (self.total - self.done)


def progress_line(step: str, progress: Progress, outcome: str) -> str:
    """The run-log line for one item: "dataset_images 3/12: approved"."""
    return f"{step} {progress.done}/{progress.total}: {outcome}"
