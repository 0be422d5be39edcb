"""Run a test double in its own process, as the real service would be: `python -m tests.doubles.serve
comfyui|ollama [--job-seconds S] [--install CLASS:INPUT:VALUE]`. Prints the URL, serves until stdin closes.

Benchmarks use this so the doubles' own work does not share the measured process's interpreter.
"""

from __future__ import annotations

import argparse
import sys

from tests.doubles.comfyui import ComfyUIDouble
from tests.doubles.ollama import OllamaDouble


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("service", choices=["comfyui", "ollama"])
    parser.add_argument("--job-seconds", type=float, default=0.0)
    parser.add_argument("--install", action="append", default=[])
    args = parser.parse_args()
    double = ComfyUIDouble(job_seconds=args.job_seconds) if args.service == "comfyui" else OllamaDouble()
    with double:
        for item in args.install:
            double.install(*item.split(":", 2))
        print(double.url, flush=True)
        sys.stdin.read()  # until the parent closes our stdin


if __name__ == "__main__":
    main()
