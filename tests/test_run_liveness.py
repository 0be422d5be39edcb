"""studio.domain.run_liveness: when a run's processes count as gone; studio.processes on real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from studio.domain.run_liveness import orphaned
from studio.processes import process_started_at


def test_a_run_is_orphaned_only_when_every_process_it_named_is_gone():
    assert not orphaned({}, {})  # a run with no events yet is not evidence of anything
    assert orphaned({101: 1000.0}, {101: None})
    assert not orphaned({101: 1000.0}, {101: 990.0})  # alive, started before its first event
    assert not orphaned({101: 1000.0, 102: 1005.0}, {101: None, 102: 1001.0})  # one step process lives
    # Same id, but that process started after the run's event: the id was reused, the run is gone.
    assert orphaned({101: 1000.0}, {101: 2000.0})


def test_process_start_times_come_from_proc_and_a_zombie_is_gone():
    assert abs(process_started_at(os.getpid()) - time.time()) < 24 * 3600
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process_started_at(child.pid) is not None:
        time.sleep(0.05)  # exited but not waited for: a zombie
    assert process_started_at(child.pid) is None
    child.wait()
    assert process_started_at(child.pid) is None
