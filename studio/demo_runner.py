"""How `studio demo` runs its jobs: in process, against the real instance, with a line per step and run.

Every run of the demo goes through `DemoRunner.run`, so each one carries the same tags, logs the same
way, and is counted and timed under the step it belongs to: the closing summary reads those figures.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import dagster as dg

# Every event is still stored in the instance (and shown in the UI); the terminal gets warnings only.
QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class StepTiming:
    name: str
    seconds: float = 0.0
    runs: int = 0
    failed: int = 0


@dataclass
class DemoRunner:
    defs: dg.Definitions
    instance: dg.DagsterInstance
    tags: dict[str, str] = field(default_factory=dict)
    # The project the demo imported: steps that decide or change something touch no other project.
    project: str = ""
    steps: list[StepTiming] = field(default_factory=list)
    total_steps: int = 0
    _seconds: dict[str, float] = field(default_factory=dict)

    @property
    def failures(self) -> int:
        return sum(s.failed for s in self.steps)

    @contextmanager
    def step(self, name: str, what: str) -> Iterator[StepTiming]:
        """Print what the step does, then how long it took and how many runs it made."""
        timing = StepTiming(name)
        self.steps.append(timing)
        print(f"[{len(self.steps)}/{self.total_steps}] {name}: {what}", flush=True)
        started = time.monotonic()
        try:
            yield timing
        finally:
            timing.seconds = time.monotonic() - started
            failed = f", {timing.failed} FAILED" if timing.failed else ""
            print(f"      {name} done in {timing.seconds:.1f} s ({timing.runs} run(s){failed})", flush=True)

    def partitions(self, partition_set: str) -> list[str]:
        return self.instance.get_dynamic_partitions(partition_set)

    def run(self, job_name: str | None, partition_key: str, *, run_config: dict | None = None,
            tags: dict[str, str] | None = None,
            asset_selection: list[dg.AssetKey] | None = None) -> dg.ExecuteInProcessResult:
        """Execute one partition of a job (None: the assets of `asset_selection`); never raises."""
        job = (self.defs.resolve_job_def(job_name) if job_name
               else self.defs.resolve_implicit_global_asset_job_def())
        started = time.monotonic()
        result = job.execute_in_process(
            partition_key=partition_key, instance=self.instance, raise_on_error=False,
            run_config={**QUIET_RUN, **(run_config or {})}, tags={**self.tags, **(tags or {})},
            asset_selection=asset_selection)
        self._seconds[result.run_id] = time.monotonic() - started
        step = self.steps[-1]
        step.runs += 1
        step.failed += 0 if result.success else 1
        return result

    def line(self, label: str, key: str, result: dg.ExecuteInProcessResult, details: str = "") -> None:
        """One run's line: `label [key]: ok (run 1a2b3c4d, 1.2 s): details` (details only on success)."""
        status = "ok" if result.success else "FAILED"
        tail = f": {details}" if details and result.success else ""
        seconds = self._seconds.get(result.run_id, 0.0)
        print(f"  {label} [{key}]: {status} (run {result.run_id[:8]}, {seconds:.1f} s){tail}", flush=True)
