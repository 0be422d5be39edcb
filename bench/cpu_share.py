"""CPU seconds of the processes a benchmark runs beside, read from /proc (Linux; elsewhere 0).

A batch against doubles on one machine shares its cores with them and with PostgreSQL: these let a
benchmark say how much of that CPU was its own and how much the services' it stands in for.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        # The command name may hold spaces and parentheses: the fields start after its last ')'.
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_cpu_s(pid: int) -> float:
    """User plus system seconds of a running process, all its threads; 0 once it is gone."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / _TICKS if fields else 0.0


def _parent(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def postgres_pids(pg_dir: Path) -> list[int]:
    """The server of an embedded data folder and every process it forked (backends, WAL writer...)."""
    try:
        postmaster = int((pg_dir / "postmaster.pid").read_text().split()[0])
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except (OSError, ValueError, IndexError):
        return []
    return [postmaster, *(pid for pid in pids if _parent(pid) == postmaster)]


class CpuMeter:
    """CPU seconds each group of processes used between `start()` and `stop()`.

    Groups are functions returning pids, asked again at the stop: a backend forked meanwhile counts
    from zero, one that exited meanwhile is lost (a pool keeps its connections)."""

    def __init__(self, **groups):
        self._groups = groups
        self._before: dict[int, float] = {}
        self._own = 0.0

    def start(self) -> None:
        self._before = {pid: process_cpu_s(pid) for pids in self._groups.values() for pid in pids()}
        self._own = own_cpu_s()

    def stop(self) -> dict[str, float]:
        used = {"own": own_cpu_s() - self._own}
        for name, pids in self._groups.items():
            used[name] = sum(process_cpu_s(pid) - self._before.get(pid, 0.0) for pid in pids())
        return used
