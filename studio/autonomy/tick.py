"""One evaluation of the replenishment sensor, as plain code: facts in, decisions written, runs planned.

The Dagster side (sensors/replenishment_sensor.py) supplies a `RunsView` over its instance and turns
the planned runs into RunRequests. Decisions are written before the runs are handed back, so a crash
after the write re-issues the same run key on the next tick instead of launching a second batch.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from studio.autonomy.decisions import DecisionRow, pause_characters, set_drifting, write_decisions
from studio.autonomy.facts import NewEvents, events_since, read_facts
from studio.autonomy.learning_store import load_learning_data, recommend_one
from studio.autonomy.settings import all_thresholds
from studio.autonomy.drift_status import TEST_NAME, drift_of
from studio.domain.drift import DriftResult
from studio.domain.replenishment import CharacterFacts, OpenRequest, ReplenishmentDecision, Thresholds, evaluate, start_of_day

BATCH_JOB = "dataset_batch_job"
BATCH_ASSET = "dataset_images"
# The same skip again is the same decision: written once, then again only after this long.
REPEAT_SKIP_AFTER = timedelta(hours=1)


class RunsView(Protocol):
    def in_progress_partitions(self) -> set[str]:
        """Partitions with a queued or running batch job."""

    def seen_run_keys(self, run_keys: list[str]) -> set[str]:
        """Those of `run_keys` the instance has a run for, in any status."""


@dataclass(frozen=True)
class PlannedRun:
    partition_key: str
    run_key: str
    run_config: dict


@dataclass
class TickOutcome:
    cursor: int
    events: NewEvents
    runs: list[PlannedRun] = field(default_factory=list)
    decisions: dict[str, ReplenishmentDecision] = field(default_factory=dict)
    drift_changes: dict[str, DriftResult] = field(default_factory=dict)
    written: int = 0

    def lines(self, limit: int = 40) -> list[str]:
        lines = [f"{slug}: {d.action} ({d.code}) {d.reason}" for slug, d in self.decisions.items()]
        lines += [f"{slug}: drift {'detected' if r.drifting else 'cleared'}: {r.reason}"
                  for slug, r in self.drift_changes.items()]
        if len(lines) > limit:
            counts = Counter(d.code for d in self.decisions.values())
            lines = lines[:limit] + [f"... and {len(lines) - limit} more; by reason: "
                                     + ", ".join(f"{k} {v}" for k, v in counts.most_common())]
        return lines


def batch_run_config(batch_size: int, parameters: dict | None) -> dict:
    config: dict = {"count": batch_size}
    if parameters:
        config["parameters"] = parameters
    return {"ops": {BATCH_ASSET: {"config": config}}}


def _worth_writing(decision: ReplenishmentDecision, row, now: datetime) -> bool:
    if decision.action != "skipped":
        return True
    if (row["last_action"], row["last_code"]) != (decision.action, decision.code):
        return True
    return row["last_decided_at"] is None or now - row["last_decided_at"] >= REPEAT_SKIP_AFTER


async def replenishment_tick(conn, runs_view: RunsView, *, cursor: int, now: datetime,
                             partitions: set[str] | None = None, seed: int = 0) -> TickOutcome:
    new_events = await events_since(conn, cursor)
    thresholds = await all_thresholds(conn)
    rows = await read_facts(conn, start_of_day(now))
    in_progress = runs_view.in_progress_partitions()
    seen = runs_view.seen_run_keys([r["request_key"] for r in rows if r["request_key"]])
    spent: dict[int, float] = defaultdict(float)
    for r in rows:
        spent[r["project_id"]] += r["gpu_today"]

    outcome = TickOutcome(cursor=new_events.cursor, events=new_events)
    to_write: list[tuple] = []  # (row, decision, run_key)
    for r in rows:
        t = thresholds.get(r["project_id"], Thresholds())
        open_request = None
        if r["request_key"] and r["request_key"] not in seen:
            open_request = OpenRequest(r["request_key"], r["request_at"], r["request_run_config"] or {})
        facts = CharacterFacts(
            character_id=r["id"], slug=r["slug"], project_id=r["project_id"], target=r["target_images"],
            approved=r["approved"], pending=r["pending"], paused=r["paused"],
            auto_reject_streak=r["auto_reject_streak"], last_batch_at=r["last_batch_at"],
            batches_today=r["batches_today"], run_in_progress=r["slug"] in in_progress,
            is_partition=partitions is None or r["slug"] in partitions, open_request=open_request)
        per_image = r["gpu_total"] / r["generated_total"] if r["generated_total"] else 0.0
        estimate = per_image * t.batch_size
        decision = evaluate(facts, t, now, project_gpu_seconds_today=spent[r["project_id"]],
                            estimated_batch_gpu_seconds=estimate)
        if decision.launches:
            spent[r["project_id"]] += estimate
        run_key = decision.run_key or (f"autonomy-{r['slug']}-{r['request_id'] or 0}"
                                       if decision.action == "requested" else None)
        outcome.decisions[r["slug"]] = decision
        if _worth_writing(decision, r, now):
            to_write.append((r, decision, run_key))

    requested_ids = [r["id"] for r, d, _ in to_write if d.action == "requested"]
    data = await load_learning_data(conn, requested_ids) if requested_ids else None
    rows_out: list[DecisionRow] = []
    paused: list[int] = []
    for r, d, run_key in to_write:
        t = thresholds.get(r["project_id"], Thresholds())
        details = {"code": d.code, "guards": d.guards, "partition": r["slug"],
                   "next_eligible_at": d.next_eligible_at.isoformat() if d.next_eligible_at else None}
        if d.action == "requested":
            parameters = recommend_one(data, r["id"], random.Random(f"{seed}:{run_key}"),
                                       project_learning=t.learning_enabled)
            details["run_config"] = batch_run_config(t.batch_size, parameters)
        elif d.action == "reissued":
            details["run_config"] = r["request_run_config"] or batch_run_config(t.batch_size, None)
        if d.launches:
            outcome.runs.append(PlannedRun(r["slug"], run_key, details["run_config"]))
        if d.action == "paused":
            paused.append(r["id"])
        rows_out.append(DecisionRow(r["id"], "replenishment", d.action, d.reason, details, run_key))

    drift_flags: dict[int, bool] = {}
    for r in rows:
        result = drift_of(r, thresholds.get(r["project_id"], Thresholds()))
        if result.drifting != r["drifting"]:
            drift_flags[r["id"]] = result.drifting
            outcome.drift_changes[r["slug"]] = result
            rows_out.append(DecisionRow(r["id"], "drift", "detected" if result.drifting else "cleared",
                                        result.reason, {"test": TEST_NAME, **result.as_dict()}))
    async with conn.transaction():
        await write_decisions(conn, rows_out)
        await pause_characters(conn, paused, "consecutive auto-rejects")
        await set_drifting(conn, drift_flags)
    outcome.written = len(rows_out)
    return outcome
