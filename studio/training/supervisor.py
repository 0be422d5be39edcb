"""Running a trainer process: its own session, both pipes read as they come, signals sent to its group.

kohya's `accelerate launch` starts train_network.py as a child: SIGTERM to the launcher's PID alone
kills the launcher and the child trains on to the end, writing its files. So the trainer is started
in a session of its own and every signal goes to the whole process group, and when the top process
has ended, whatever is left of its group is ended too. A SIGKILLed run sends no signal at all: when the
process that started us is gone the trainer is stopped the same way, so a dead run's training never
goes on beside the next run that got the GPU.
"""

from __future__ import annotations

import codecs
import os
import queue
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Callable

from studio.training.kohya_output import Event, KohyaOutputParser, TrainingProgress

GRACE_S = 10.0  # after SIGTERM, before SIGKILL


@dataclass
class TrainerOutcome:
    exit_code: int
    stopped_by: int | None  # the signal we forwarded, when we were asked to stop
    progress: TrainingProgress
    seconds: float
    orphaned: bool = False  # stopped because the process that started us died


def signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _reader(stream, name: str, out: queue.Queue) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while chunk := os.read(stream.fileno(), 65536):
        out.put((name, decoder.decode(chunk)))
    out.put((name, decoder.decode(b"", final=True)))
    out.put((name, None))


def run_trainer(command: list[str], *, env: dict[str, str], progress: TrainingProgress,
                on_event: Callable[[Event], None] = lambda e: None, cwd: str | None = None,
                grace_s: float = GRACE_S) -> TrainerOutcome:
    """Run to the end, feeding every parsed event to `progress` and `on_event` (in this thread).

    SIGTERM or SIGINT to this process is forwarded to the trainer's group as SIGTERM (then SIGKILL
    after `grace_s`); the outcome then says which signal stopped it.
    """
    started = time.monotonic()
    parent = os.getppid()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=env, cwd=cwd, start_new_session=True)
    stop: dict[str, float | int] = {}

    def forward(signum, _frame):
        if "signal" not in stop:
            stop.update(signal=signum, at=time.monotonic())
            signal_group(process.pid, signal.SIGTERM)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    chunks: queue.Queue = queue.Queue()
    readers = [threading.Thread(target=_reader, args=(process.stdout, "stdout", chunks), daemon=True),
               threading.Thread(target=_reader, args=(process.stderr, "stderr", chunks), daemon=True)]
    for reader in readers:
        reader.start()
    parser, open_streams, exited_at = KohyaOutputParser(), 2, None
    try:
        while open_streams:
            try:
                name, text = chunks.get(timeout=0.2)
            except queue.Empty:
                name = text = None
            if text is None and name is not None:
                open_streams -= 1
            elif text:
                for event in parser.feed(name, text):
                    progress.add(event)
                    on_event(event)
            now = time.monotonic()
            if os.getppid() != parent and "signal" not in stop:
                stop.update(signal=signal.SIGTERM, at=now, orphaned=True)
                signal_group(process.pid, signal.SIGTERM)
            if "at" in stop and now - stop["at"] > grace_s:
                signal_group(process.pid, signal.SIGKILL)
            if exited_at is None and process.poll() is not None:
                exited_at = now
            if exited_at is not None and now - exited_at > 2.0:
                # The top process is gone but something of its group still holds the pipes.
                signal_group(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if process.poll() is None:
            signal_group(process.pid, signal.SIGKILL)
            process.wait()
        signal_group(process.pid, signal.SIGKILL)  # nothing of the trainer outlives the launcher
    for event in parser.close():
        progress.add(event)
        on_event(event)
    return TrainerOutcome(exit_code=process.returncode, stopped_by=stop.get("signal"), progress=progress,
                          seconds=time.monotonic() - started, orphaned=bool(stop.get("orphaned")))
