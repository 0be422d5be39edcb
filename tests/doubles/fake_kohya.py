"""A stand-in for `accelerate launch train_network.py` that behaves like the captured real one.

Like accelerate, the process started runs the trainer as a child and waits for it; the child
replays what real sd-scripts printed (tests/conftest.py FIXTURES/kohya) and writes a LoRA file in
place, with kohya's key layout. FAKE_KOHYA_MODE picks the run:
  ok        the real training output, then the file (`model saved.`), exit 0
  fail      the missing-checkpoint run's output, exit 1 (accelerate's CalledProcessError appended)
  no_data   the missing-dataset run: exit 0 and no file
  hang      progress to step 2, then a truncated file under the final name, then waits to be killed
FAKE_KOHYA_PIDS: a file to which both processes append their pid.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "kohya"


def _arg(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def _note_pid() -> None:
    if os.environ.get("FAKE_KOHYA_PIDS"):
        with open(os.environ["FAKE_KOHYA_PIDS"], "a") as f:
            f.write(f"{os.getpid()}\n")


def _replay(run: str, until: str | None = None) -> None:
    stdout = (FIXTURES / f"{run}.stdout.txt" if run != "train" else FIXTURES / "train_stdout.txt").read_bytes()
    stderr = (FIXTURES / f"{run}.stderr.txt" if run != "train" else FIXTURES / "train_stderr.txt").read_bytes()
    if until:
        stderr = stderr[: stderr.index(until.encode()) + len(until.encode())]
    sys.stdout.buffer.write(stdout)
    sys.stdout.flush()
    for piece in stderr.split(b"\r"):  # tqdm's updates, one write each
        sys.stderr.buffer.write(piece + b"\r")
        sys.stderr.flush()


def trainer(argv: list[str]) -> int:
    _note_pid()
    mode = os.environ.get("FAKE_KOHYA_MODE", "ok")
    output = Path(_arg(argv, "--output_dir")) / f"{_arg(argv, '--output_name')}.safetensors"
    if mode == "fail":
        _replay("error_missing_ckpt")
        return 1
    if mode == "no_data":
        _replay("error_missing_dir")
        return 0
    if mode == "hang":
        _replay("sigterm")
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(b"\x00" * 4096)  # a save cut short: a truncated file under the final name
        time.sleep(600)
        return 0
    import numpy as np
    from safetensors.numpy import save_file

    from studio.training.lora_layout import lora_shapes

    _replay("train")
    rank = int(_arg(argv, "--network_dim"))
    shapes = lora_shapes("sd15", rank, train_text_encoder=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: np.zeros(s, dtype=np.float16) for k, s in shapes.items()}, str(output),
              metadata={"ss_network_dim": str(rank), "ss_base_model_version": "sd_v1"})
    return 0


def launcher(argv: list[str]) -> int:
    _note_pid()
    script = next(a for a in argv if a.endswith(".py"))
    child = [sys.executable, __file__, "--child", *argv[argv.index(script):]]
    # The replayed output already ends in accelerate's own CalledProcessError traceback.
    return 0 if subprocess.call(child) == 0 else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--child"]:
        sys.exit(trainer(args[1:]))
    sys.exit(launcher(args[1:]))  # args[0] is "launch"
