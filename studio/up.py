"""`studio up`: the code server, the Dagster webserver and daemon and the review service, together.

The Dagster home is initialised once before anything starts (studio/dagster_init.py), then the code
location runs as its own gRPC code server, as in production, and the webserver and daemon load it
from there (a workspace file written under the studio home). Every line a service prints is shown
prefixed with its name. Ctrl-C (or SIGTERM, or `studio stop`) stops the services in reverse order,
each as a process group so the daemon's run workers go with it, and then the embedded PostgreSQL.
One service dying stops the others: a half-running studio only confuses.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from studio.settings import Settings
from studio.service_state import clear_state, write_state

BIN = Path(sys.executable).parent
STOP_GRACE_S = 20.0


@dataclass
class Service:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None


def workspace_yaml(settings: Settings) -> Path:
    path = settings.home / "up_workspace.yaml"
    path.write_text("# Written by `studio up`: the code location served by its own gRPC code server.\n"
                    "load_from:\n  - grpc_server:\n      host: 127.0.0.1\n"
                    f"      port: {settings.code_server_port}\n      location_name: anime_studio\n")
    return path


def services(settings: Settings, workspace: Path) -> tuple[Service, list[Service]]:
    code = Service("code", [str(BIN / "dagster"), "code-server", "start", "-m", "anime_assets.definitions",
                            "--location-name", "anime_studio", "-h", "127.0.0.1",
                            "-p", str(settings.code_server_port)])
    rest = [
        Service("webserver", [str(BIN / "dagster-webserver"), "-w", str(workspace), "-h", "127.0.0.1",
                              "-p", str(settings.webserver_port)]),
        Service("daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)]),
        Service("api", [str(BIN / "studio"), "serve", "--port", str(settings.api_port)]),
    ]
    return code, rest


class Supervisor:
    def __init__(self, settings: Settings, out=None):
        self.settings, self.out = settings, out or sys.stdout
        self.started: list[Service] = []
        self.stop_requested = threading.Event()
        self._print_lock = threading.Lock()

    def say(self, name: str, line: str) -> None:
        with self._print_lock:
            self.out.write(f"{name:<9}| {line}\n")
            self.out.flush()

    def _pump(self, service: Service) -> None:
        for raw in service.process.stdout:
            self.say(service.name, raw.decode(errors="replace").rstrip())

    def start(self, service: Service, env: dict[str, str]) -> None:
        # Its own session: a terminal's Ctrl-C reaches only us, and we stop the services in order.
        service.process = subprocess.Popen(service.argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, start_new_session=True)
        self.started.append(service)
        threading.Thread(target=self._pump, args=(service,), daemon=True).start()
        self.say("studio", f"started {service.name} (pid {service.process.pid})")

    def _dead(self) -> Service | None:
        return next((s for s in self.started if s.process.poll() is not None), None)

    def wait_for_port(self, service: Service, port: int, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not self.stop_requested.is_set():
            if service.process.poll() is not None:
                return False
            with socket.socket() as probe:
                probe.settimeout(0.5)
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return True
            time.sleep(0.3)
        return False

    def stop_all(self) -> None:
        for service in reversed(self.started):
            _signal_group(service.process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for service in reversed(self.started):
            try:
                service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say("studio", f"{service.name} did not stop within {STOP_GRACE_S:.0f} s; killing it")
            _signal_group(service.process, signal.SIGKILL)  # leftovers of the group (run workers)
            service.process.wait()
        self.say("studio", "all services stopped")


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run_up(settings: Settings) -> int:
    from studio.dagster_init import initialize_dagster_home
    from studio.db.embedded import stop_embedded_server

    supervisor = Supervisor(settings)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: supervisor.stop_requested.set())
    supervisor.say("studio", "initialising the Dagster home")
    dagster_home = initialize_dagster_home(settings)
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "STUDIO_HOME": str(settings.home)}
    env.setdefault("STUDIO_DAGSTER_GRAPHQL_URL", f"http://127.0.0.1:{settings.webserver_port}/graphql")
    code, rest = services(settings, workspace_yaml(settings))
    status = 0
    write_state(settings, os.getpid(), {})
    try:
        supervisor.start(code, env)
        # The webserver and daemon need the code server answering, or they start with a broken location.
        if not supervisor.wait_for_port(code, settings.code_server_port, timeout_s=120):
            if not supervisor.stop_requested.is_set():
                supervisor.say("studio", "the code server did not come up; stopping")
                status = 1
        else:
            for service in rest:
                supervisor.start(service, env)
            write_state(settings, os.getpid(), {s.name: s.process.pid for s in supervisor.started})
            supervisor.say("studio", f"Dagster UI http://127.0.0.1:{settings.webserver_port} | review page "
                                     f"http://127.0.0.1:{settings.api_port}/ | Ctrl-C stops everything")
            while not supervisor.stop_requested.wait(0.5):
                dead = supervisor._dead()
                if dead is not None:
                    supervisor.say("studio", f"{dead.name} exited with code {dead.process.returncode}; "
                                             "stopping the others")
                    status = 1
                    break
    finally:
        supervisor.stop_all()
        if not settings.secret("database_url") and not settings.vault_addr:
            stop_embedded_server(settings.embedded_pg_dir)
            supervisor.say("studio", "embedded PostgreSQL stopped")
        clear_state(settings)
    return status
