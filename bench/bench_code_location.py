"""code_location_load_s: import and load the Definitions in a fresh process (goal <= 3 s)."""

import statistics
import subprocess
import sys
from pathlib import Path

from bench.results import record

REPO = Path(__file__).resolve().parents[1]
PROBE = """
import time
t0 = time.perf_counter()
import dagster as dg
from anime_assets.definitions import defs
dg.Definitions.validate_loadable(defs)
print(time.perf_counter() - t0)
"""


PACKAGES = ("anime_assets", "resources", "sensors", "jobs", "comfy_graphs", "api", "studio")


def compile_project() -> None:
    """Bytecode for the project's modules, as an installed package has (pip compiles on install).

    Editable installs compile nothing and PYTHONDONTWRITEBYTECODE stops Python caching it, so without
    this every fresh process would measure compiling the project from source, not starting it.
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", *PACKAGES], cwd=REPO, check=True)


def fresh_process_seconds(probe: str, runs: int) -> list[float]:
    """What `probe` prints last (its own timing), once per fresh interpreter, with the project compiled."""
    return fresh_processes_seconds({"probe": probe}, runs)["probe"]


def fresh_processes_seconds(probes: dict[str, str], runs: int) -> dict[str, list[float]]:
    """The same for several probes taken in turn, a round of each at a time: a machine whose speed
    drifts during the runs moves all of them alike, so they can be read against one another."""
    compile_project()
    timings = {name: [] for name in probes}
    for _ in range(runs):
        for name, probe in probes.items():
            out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True)
            timings[name].append(float(out.stdout.strip().splitlines()[-1]))
    return timings


def main(runs: int = 5) -> None:
    timings = fresh_process_seconds(PROBE, runs)
    record({"code_location_load_s": round(statistics.median(timings), 3),
            "code_location_load_max_s": round(max(timings), 3)})


if __name__ == "__main__":
    main()
