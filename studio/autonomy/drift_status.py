"""A character's drift test on its facts row: one reading for the sensor, the API and the asset check."""

from __future__ import annotations

from datetime import datetime, timezone

from studio.autonomy.facts import read_facts
from studio.autonomy.settings import get_thresholds
from studio.domain.drift import DriftResult, detect_drift
from studio.domain.replenishment import Thresholds, start_of_day

TEST_NAME = "one-sided two-proportion z-test"


def drift_of(row, thresholds: Thresholds) -> DriftResult:
    """The recent window (the latest `drift_window` decided images) against every decided image before it."""
    decided = row["approved"] + row["rejected"]
    return detect_drift(row["window_approved"], row["window_decided"], row["approved"] - row["window_approved"],
                        decided - row["window_decided"], alpha=thresholds.drift_alpha)


async def character_drift(conn, character_id: int) -> DriftResult | None:
    """The drift test of one character now, with its project's window and alpha; None if it is unknown."""
    rows = await read_facts(conn, start_of_day(datetime.now(timezone.utc)), character_id)
    if not rows:
        return None
    return drift_of(rows[0], await get_thresholds(conn, rows[0]["project_id"]))
