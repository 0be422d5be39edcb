"""`make bench`: run every bench/bench_*.py in its own process; each merges into bench/results.json."""

import subprocess
import sys
from pathlib import Path

from bench.results import RESULTS

BENCH = Path(__file__).resolve().parent


def main() -> int:
    failed = []
    for script in sorted(BENCH.glob("bench_*.py")):
        print(f"== {script.stem}", flush=True)
        if subprocess.run([sys.executable, "-m", f"bench.{script.stem}"], cwd=BENCH.parent).returncode:
            failed.append(script.stem)
    print(f"figures in {RESULTS}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
