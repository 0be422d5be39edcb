"""Whether a Dagster run's process is gone: the rule the dead-run sensor applies.

Every event of a run carries the id of the process that wrote it, so a run's events name the
processes that executed it. The run is orphaned when at least one is known and none is alive: no
process has that id any more, or the process with that id started after the run's first event from
it (the id was reused by something else).
"""

from __future__ import annotations

from collections.abc import Mapping

# Clock granularity of process start times (/proc counts in ticks of 10 ms) plus a margin.
START_TIME_SLACK_S = 1.0


def orphaned(first_event_at: Mapping[int, float], process_started_at: Mapping[int, float | None]) -> bool:
    """first_event_at: pid -> time of the run's first event from it; process_started_at: pid -> when
    the live process with that id started, None when there is none."""
    if not first_event_at:
        return False  # nothing known yet (a run still starting): not evidence of a death
    for pid, first_event in first_event_at.items():
        started = process_started_at.get(pid)
        if started is not None and started <= first_event + START_TIME_SLACK_S:
            return False
    return True
