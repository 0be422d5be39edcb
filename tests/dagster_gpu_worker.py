"""A run process with one GPU step, for tests/test_dead_run_slots.py and bench/bench_hardening.py:

    python -m tests.dagster_gpu_worker MARKER SECONDS

materializes an asset in pool "gpu" on $DAGSTER_HOME's instance (in-process, as `dg.materialize`);
the step writes MARKER when it has its slot, then holds it for SECONDS.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import dagster as dg


@dg.asset(pool="gpu")
def gpu_step() -> None:
    Path(sys.argv[1]).write_text(str(time.time()))
    time.sleep(float(sys.argv[2]))


if __name__ == "__main__":
    result = dg.materialize([gpu_step], instance=dg.DagsterInstance.get())
    sys.exit(0 if result.success else 1)
