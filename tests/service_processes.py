"""Helpers for tests that start the studio's services as real processes: ports, waiting, process trees."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fresh_env(home: Path, **ports: int) -> dict[str, str]:
    """The environment of a user with a fresh studio home: nothing of the test session's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "DAGSTER_"))}
    env["STUDIO_HOME"] = str(home)
    env.update({f"STUDIO_{name.upper()}": str(port) for name, port in ports.items()})
    return env


def wait_for_http(url: str, timeout_s: float, alive=lambda: True) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and alive():
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


def session_processes(session_ids: set[int]) -> set[int]:
    """Live (not zombie) processes in these sessions."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] not in ("Z", "X") and int(fields[3]) in session_ids:
            found.add(int(entry.name))
    return found


def processes_mentioning(text: str) -> set[int]:
    """Live processes whose command line or environment mentions `text` (a temporary studio home)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                continue
            blob = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:
            continue
        if text.encode() in blob:
            found.add(int(entry.name))
    return found


def postmaster_pid(pg_dir: Path) -> int | None:
    try:
        return int((pg_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
