"""Drift: a character's recent approval rate fell well below its baseline.

The test is a one-sided two-proportion z-test: H0 "the recent window approves at least as often as
the baseline (every decided image before the window)" against H1 "it approves less often", with the
pooled proportion for the standard error. Drift is declared when the p-value is below `alpha`. Too few
decided images on either side (fewer than `min_recent` or `min_baseline`) is "not enough data", never drift.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

MIN_RECENT = 10
MIN_BASELINE = 20


@dataclass(frozen=True)
class DriftResult:
    drifting: bool
    reason: str
    recent_approved: int
    recent_decided: int
    baseline_approved: int
    baseline_decided: int
    z: float | None = None
    p_value: float | None = None
    alpha: float = 0.01

    @property
    def recent_rate(self) -> float | None:
        return self.recent_approved / self.recent_decided if self.recent_decided else None

    @property
    def baseline_rate(self) -> float | None:
        return self.baseline_approved / self.baseline_decided if self.baseline_decided else None

    def as_dict(self) -> dict:
        return {**asdict(self), "recent_rate": self.recent_rate, "baseline_rate": self.baseline_rate}


def _normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def detect_drift(recent_approved: int, recent_decided: int, baseline_approved: int, baseline_decided: int,
                 *, alpha: float = 0.01, min_recent: int = MIN_RECENT, min_baseline: int = MIN_BASELINE) -> DriftResult:
    for name, approved, decided in (("recent", recent_approved, recent_decided),
                                    ("baseline", baseline_approved, baseline_decided)):
        if not 0 <= approved <= decided:
            raise ValueError(f"{name}: approved ({approved}) must be between 0 and decided ({decided})")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    counts = dict(recent_approved=recent_approved, recent_decided=recent_decided,
                  baseline_approved=baseline_approved, baseline_decided=baseline_decided, alpha=alpha)
    if recent_decided < min_recent or baseline_decided < min_baseline:
        return DriftResult(False, f"not enough decided images (recent {recent_decided}/{min_recent}, "
                           f"baseline {baseline_decided}/{min_baseline})", **counts)
    pooled = (recent_approved + baseline_approved) / (recent_decided + baseline_decided)
    variance = pooled * (1 - pooled) * (1 / recent_decided + 1 / baseline_decided)
    if variance == 0:  # everything approved, or everything rejected, on both sides: no difference
        return DriftResult(False, "recent and baseline rates are equal", z=0.0, p_value=0.5, **counts)
    z = (baseline_approved / baseline_decided - recent_approved / recent_decided) / math.sqrt(variance)
    p = _normal_sf(z)
    drifting = p < alpha
    verdict = "below" if drifting else "not significantly below"
    return DriftResult(drifting, f"recent {recent_approved}/{recent_decided} {verdict} baseline "
                       f"{baseline_approved}/{baseline_decided} (one-sided z={z:.2f}, p={p:.4f}, alpha={alpha})",
                       z=round(z, 4), p_value=p, **counts)
