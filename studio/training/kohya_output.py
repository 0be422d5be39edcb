"""Reading what kohya sd-scripts prints: tqdm progress, `epoch N/M`, saves, log lines, the real error.

tqdm separates its updates with `\r`, not `\n`, and rich glues log records straight after a bar
segment, so both streams are split on `\r` and `\n` and a bar is matched at the start of a segment;
whatever follows the bar's closing `]` is a log line of its own. Chunks may end anywhere: the
unfinished tail of each stream waits for the next chunk.
"""

from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass, field

# steps:  25%|██▌       | 2/8 [00:02<00:08,  1.47s/it, avr_loss=1.08]
_BAR = re.compile(r"^steps:\s*\d+%\|[^|]*\|\s*(?P<step>\d+)/(?P<total>\d+)\s*\[(?P<inside>[^\]]*)\]")
_LOSS = re.compile(r"avr_loss=(?P<loss>[-+0-9.eE]+|nan|inf)")
_EPOCH = re.compile(r"^epoch (?P<epoch>\d+)/(?P<total>\d+)$")
_SAVING = re.compile(r"^saving checkpoint: (?P<path>.+)$")
_SPLIT = re.compile(r"[\r\n]")
_DIED = re.compile(r"died with <Signals\.(?P<signal>\w+)")


@dataclass(frozen=True)
class Progress:
    step: int
    total: int
    avr_loss: float | None


@dataclass(frozen=True)
class Epoch:
    epoch: int
    total: int


@dataclass(frozen=True)
class Saved:
    path: str


@dataclass(frozen=True)
class LogLine:
    stream: str
    text: str


Event = Progress | Epoch | Saved | LogLine


class KohyaOutputParser:
    """Feed raw text of either stream as it arrives; get the events it completes."""

    def __init__(self) -> None:
        self._tail: dict[str, str] = {}

    def feed(self, stream: str, text: str) -> list[Event]:
        pieces = _SPLIT.split(self._tail.get(stream, "") + text)
        self._tail[stream] = pieces.pop()
        return [event for piece in pieces for event in parse_segment(stream, piece)]

    def close(self) -> list[Event]:
        """The unterminated tails (a killed trainer ends mid-bar, with no newline)."""
        events = [event for stream, tail in self._tail.items() for event in parse_segment(stream, tail)]
        self._tail.clear()
        return events


def parse_segment(stream: str, segment: str) -> list[Event]:
    bar = _BAR.match(segment)
    if bar:
        loss = _LOSS.search(bar["inside"])
        events: list[Event] = [Progress(int(bar["step"]), int(bar["total"]),
                                        float(loss["loss"]) if loss else None)]
        rest = segment[bar.end():].strip()
        if rest:
            events.append(LogLine(stream, rest))
        return events
    text = segment.rstrip()
    if not text.strip():
        return []
    epoch = _EPOCH.match(text)
    if epoch:
        return [Epoch(int(epoch["epoch"]), int(epoch["total"]))]
    saving = _SAVING.match(text)
    if saving:
        return [Saved(saving["path"].strip())]
    return [LogLine(stream, text)]


@dataclass
class TrainingProgress:
    """What a run reported so far: the last avr_loss of each step and epoch, and the last lines."""

    epochs: int | None = None  # max_train_epochs, when the caller knows it
    total_steps: int | None = None
    last_step: int = 0
    loss_by_step: dict[int, float] = field(default_factory=dict)
    epochs_seen: int = 0
    saved: list[str] = field(default_factory=list)
    model_saved: bool = False
    last_lines: deque = field(default_factory=lambda: deque(maxlen=40))

    def add(self, event: Event) -> None:
        if isinstance(event, Progress):
            self.total_steps, self.last_step = event.total, max(self.last_step, event.step)
            if event.avr_loss is not None and event.step > 0:
                self.loss_by_step[event.step] = event.avr_loss  # a step's second redraw has its own loss
        elif isinstance(event, Epoch):
            self.epochs_seen = max(self.epochs_seen, event.epoch)
            self.epochs = self.epochs or event.total
        elif isinstance(event, Saved):
            self.saved.append(event.path)
        elif isinstance(event, LogLine):
            self.last_lines.append(event.text)
            if event.text.rstrip().endswith("model saved.") or " model saved. " in event.text:
                self.model_saved = True

    def loss_by_epoch(self) -> list[float]:
        """avr_loss at the last reported step of each epoch. Epochs are found from the step count,
        not from `epoch N/M` lines: stdout arrives in bursts and loses its tail on a kill."""
        if not self.loss_by_step or not self.total_steps or not self.epochs:
            return []
        per_epoch = self.total_steps / self.epochs
        curve: dict[int, float] = {}
        for step in sorted(self.loss_by_step):
            curve[max(1, math.ceil(step / per_epoch - 1e-9))] = self.loss_by_step[step]
        return [curve[e] for e in sorted(curve)]

    def loss_curve(self) -> list[list[float]]:
        """[[step, avr_loss], ...] in step order."""
        return [[step, self.loss_by_step[step]] for step in sorted(self.loss_by_step)]


def failure_summary(lines: list[str]) -> str:
    """The line that says why kohya failed. `accelerate launch` appends its own CalledProcessError
    traceback to every failure; the real error is the last line of the FIRST traceback."""
    in_traceback = False
    for line in lines:
        died = _DIED.search(line)
        if died:
            return f"the trainer process died with {died['signal']}"

        if line.startswith("Traceback (most recent call last):"):
            in_traceback = True
            continue
        if in_traceback and line and not line.startswith((" ", "\t")):
            return line.strip()
    for line in reversed(lines):
        if " ERROR " in f" {line} ":
            return line.strip()
    return lines[-1].strip() if lines else ""
