"""Whether to request another dataset batch for a character now: the guards of the replenishment sensor.

One pure function, `evaluate`, takes the facts about one character (read by studio/autonomy/facts.py
and the Dagster instance) and the project's thresholds, and returns a `ReplenishmentDecision`: request
or skip, the reason, every guard's value and when the character is next eligible.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Literal

from studio.domain.readiness import dataset_readiness

Action = Literal["requested", "reissued", "skipped", "paused"]


@dataclass(frozen=True)
class Thresholds:
    """Per-project autonomy settings (table `autonomy_settings`); defaults as the seed system's."""

    enabled: bool = True
    batch_size: int = 3
    cooldown_seconds: int = 900
    daily_batch_limit: int = 8  # batches per character per UTC day
    daily_gpu_seconds: float = 7200.0  # per project per UTC day
    pending_buffer: int = 12  # images waiting for a person before generation waits too
    pause_after_auto_rejects: int = 5
    learning_enabled: bool = True
    drift_window: int = 20
    drift_alpha: float = 0.01
    # A requested run that never showed up in the instance (a crash between request and launch) is
    # requested again under the same run key for this long, then given up.
    request_ttl_seconds: int = 600

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class OpenRequest:
    """The last request decision of a character whose run the instance has not seen yet."""

    run_key: str
    decided_at: datetime
    run_config: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CharacterFacts:
    character_id: int
    slug: str
    project_id: int
    target: int
    approved: int
    pending: int
    paused: bool
    # Auto-rejects in a row among the latest reviewed images since the last resume.
    auto_reject_streak: int
    last_batch_at: datetime | None
    batches_today: int
    run_in_progress: bool  # the Dagster instance has a queued or running dataset_batch_job for it
    is_partition: bool = True  # the partition sync sensor has mirrored it into Dagster
    open_request: OpenRequest | None = None


@dataclass(frozen=True)
class ReplenishmentDecision:
    action: Action
    reason: str
    code: str  # a short stable name of the reason, for filters and "same as last time"
    guards: dict
    next_eligible_at: datetime | None = None
    run_key: str | None = None

    @property
    def launches(self) -> bool:
        return self.action in ("requested", "reissued")


def _next_midnight(now: datetime) -> datetime:
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def start_of_day(now: datetime) -> datetime:
    return now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def evaluate(facts: CharacterFacts, thresholds: Thresholds, now: datetime, *,
             project_gpu_seconds_today: float, estimated_batch_gpu_seconds: float = 0.0) -> ReplenishmentDecision:
    """The first guard that fails decides a skip; if none fails, a request.

    `project_gpu_seconds_today` includes batches this tick already requested for the project, so one tick
    cannot overshoot the budget by requesting for every character at once.
    """
    readiness = dataset_readiness(facts.approved, facts.target)
    cooldown_until = (facts.last_batch_at + timedelta(seconds=thresholds.cooldown_seconds)
                      if facts.last_batch_at else None)
    guards = {
        "approved": facts.approved, "target": facts.target, "missing": readiness.missing,
        "pending": facts.pending, "pending_buffer": thresholds.pending_buffer,
        "auto_reject_streak": facts.auto_reject_streak,
        "pause_after_auto_rejects": thresholds.pause_after_auto_rejects, "paused": facts.paused,
        "run_in_progress": facts.run_in_progress,
        "last_batch_at": facts.last_batch_at.isoformat() if facts.last_batch_at else None,
        "cooldown_seconds": thresholds.cooldown_seconds,
        "batches_today": facts.batches_today, "daily_batch_limit": thresholds.daily_batch_limit,
        "project_gpu_seconds_today": round(project_gpu_seconds_today, 3),
        "daily_gpu_seconds": thresholds.daily_gpu_seconds,
    }

    def skip(code: str, reason: str, eligible: datetime | None = None) -> ReplenishmentDecision:
        return ReplenishmentDecision("skipped", reason, code, guards, eligible)

    if not thresholds.enabled:
        return skip("autonomy_off", "autonomy is switched off for this project")
    if facts.paused:
        return skip("paused", "paused until a person resumes it")
    if facts.auto_reject_streak >= thresholds.pause_after_auto_rejects:
        return ReplenishmentDecision(
            "paused", f"{facts.auto_reject_streak} consecutive auto-rejects "
            f"(limit {thresholds.pause_after_auto_rejects}): paused until a person resumes it", "auto_rejects", guards)
    if readiness.ready:
        return skip("target_reached", f"target reached ({facts.approved}/{facts.target} approved)")
    if not facts.is_partition:
        return skip("no_partition", "not a Dagster partition yet (the partition sync sensor adds it)")
    if facts.run_in_progress:
        return skip("run_in_progress", "a dataset_batch_job run for it is queued or running")
    request = facts.open_request
    if request is not None and now - request.decided_at < timedelta(seconds=thresholds.request_ttl_seconds):
        return ReplenishmentDecision("reissued", "requested earlier and not launched yet: same run key again",
                                     "reissued", guards, run_key=request.run_key)
    if cooldown_until is not None and now < cooldown_until:
        left = (cooldown_until - now).total_seconds()
        return skip("cooldown", f"cooldown: {left:.0f} s left of {thresholds.cooldown_seconds} s", cooldown_until)
    if facts.batches_today >= thresholds.daily_batch_limit:
        return skip("daily_limit", f"daily limit reached ({facts.batches_today}/{thresholds.daily_batch_limit} "
                    "batches today)", _next_midnight(start_of_day(now)))
    if project_gpu_seconds_today + estimated_batch_gpu_seconds > thresholds.daily_gpu_seconds:
        return skip("gpu_budget", f"project GPU budget: {project_gpu_seconds_today:.0f} s used + "
                    f"{estimated_batch_gpu_seconds:.0f} s for a batch > {thresholds.daily_gpu_seconds:.0f} s today",
                    _next_midnight(start_of_day(now)))
    if facts.pending >= thresholds.pending_buffer:
        return skip("pending_buffer", f"{facts.pending} images wait for a person "
                    f"(buffer {thresholds.pending_buffer}): waiting for reviews")
    return ReplenishmentDecision("requested", f"{readiness.missing} approved images missing: batch of "
                                 f"{thresholds.batch_size}", "requested", guards, now)
