"""Every benchmark merges its figures into one flat JSON object, bench/results.json."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

RESULTS = Path(__file__).with_name("results.json")
_LOCK = RESULTS.with_suffix(".json.lock")


def record(figures: dict[str, float]) -> None:
    """Print this benchmark's figures and merge them into results.json (written atomically).

    The read-merge-write holds a file lock: benchmarks run side by side would otherwise drop each
    other's keys.
    """
    print(json.dumps(figures, indent=2, sort_keys=True))
    with open(_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        merged = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        merged.update(figures)
        tmp = RESULTS.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, RESULTS)
