"""What `studio up` is running, in <home>/run/up.json: for `studio stop` and for `make clean`'s refusal.

The file is written atomically and removed when `studio up` ends; a file left by a killed supervisor
names processes that are gone, which `running_services` sees.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from studio.settings import Settings
from studio.uploads import write_atomically


def state_path(settings: Settings) -> Path:
    return settings.home / "run" / "up.json"


def write_state(settings: Settings, supervisor_pid: int, services: dict[str, int]) -> None:
    state = {"supervisor": supervisor_pid, "services": services}
    write_atomically(state_path(settings), json.dumps(state).encode())


def clear_state(settings: Settings) -> None:
    state_path(settings).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    from studio.processes import process_started_at

    return process_started_at(pid) is not None  # a zombie is gone


def running_services(settings: Settings) -> dict[str, int]:
    """name -> pid of what `studio up` started and still runs (the supervisor as "studio up")."""
    try:
        state = json.loads(state_path(settings).read_text())
    except (FileNotFoundError, ValueError):
        return {}
    named = {"studio up": state.get("supervisor"), **state.get("services", {})}
    return {name: pid for name, pid in named.items() if isinstance(pid, int) and _alive(pid)}


def stop_services(settings: Settings, timeout_s: float = 40.0) -> list[str]:
    """Ask `studio up` to stop (it stops its services in order); kill what is left after the timeout."""
    running = running_services(settings)
    supervisor = running.get("studio up")
    if supervisor:
        os.kill(supervisor, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _alive(supervisor):
            time.sleep(0.2)
    for name, pid in running_services(settings).items():
        try:
            os.killpg(pid, signal.SIGKILL) if name != "studio up" else os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    clear_state(settings)
    return sorted(running)
