"""Starting the studio as a user does: real processes on a fresh home, stopped by Ctrl-C or `make stop`."""

from __future__ import annotations

import os
import signal
import subprocess
import time


from tests.service_processes import (
    REPO, free_port, fresh_env, postmaster_pid, processes_mentioning, session_processes, wait_for_http,
)



def _make(target: str, env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(["make", "-s", "-C", str(REPO), target], env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def _stop_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def test_webserver_daemon_and_review_service_started_at_once_on_a_fresh_home(tmp_path):
    """Each `make` target initialises the home itself; three at once all come up (the CREATE DATABASE race)."""
    home = tmp_path / "fresh"
    web, api = free_port(), free_port()
    env = fresh_env(home, webserver_port=web, api_port=api)
    env["STUDIO_DAGSTER_GRAPHQL_URL"] = f"http://127.0.0.1:{web}/graphql"
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("webserver", "daemon", "serve")}
    # `make serve` runs `studio serve` on STUDIO_API_PORT.
    processes = {name: _make(name, env, log) for name, log in logs.items()}
    try:
        assert wait_for_http(f"http://127.0.0.1:{api}/api/health", 120), (tmp_path / "serve.log").read_text()
        assert wait_for_http(f"http://127.0.0.1:{web}/server_info", 120), (tmp_path / "webserver.log").read_text()
        deadline = time.monotonic() + 60
        while "SensorDaemon" not in (tmp_path / "daemon.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
        for name, process in processes.items():
            assert process.poll() is None, f"{name} died:\n" + (tmp_path / f"{name}.log").read_text()
        assert "SensorDaemon" in (tmp_path / "daemon.log").read_text()
        assert f"studio home: {home}" in (tmp_path / "serve.log").read_text()
    finally:
        for process in processes.values():
            _stop_group(process)
        subprocess.run([str(REPO / ".venv/bin/studio"), "stop"], env=env, capture_output=True, timeout=60)
    assert postmaster_pid(home / "pg") is None


def test_make_up_then_ctrl_c_leaves_no_process(tmp_path):
    home = tmp_path / "fresh"
    web, api, code = free_port(), free_port(), free_port()
    env = fresh_env(home, webserver_port=web, api_port=api, code_server_port=code)
    log_path = tmp_path / "up.log"
    with open(log_path, "w") as log:
        up = _make("up", env, log)
    try:
        assert wait_for_http(f"http://127.0.0.1:{api}/api/health", 150, alive=lambda: up.poll() is None), \
            log_path.read_text()
        assert wait_for_http(f"http://127.0.0.1:{web}/server_info", 60), log_path.read_text()
        started = processes_mentioning(str(home))
        pg = postmaster_pid(home / "pg")
        assert pg and len(started) >= 5  # make, supervisor, code server, webserver, daemon, api ...
        output = log_path.read_text()
        for prefix in ("code     |", "webserver|", "daemon   |", "api      |"):
            assert prefix in output
        os.killpg(up.pid, signal.SIGINT)  # what Ctrl-C in the terminal does: the whole foreground group
        assert up.wait(timeout=60) in (0, 2, -signal.SIGINT)
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
    time.sleep(0.5)
    left = processes_mentioning(str(home)) | (session_processes({up.pid}))
    assert not left, f"left running: {left}\n{log_path.read_text()[-3000:]}"
    assert postmaster_pid(home / "pg") is None
    assert "all services stopped" in log_path.read_text()
    assert not (home / "run" / "up.json").exists()
