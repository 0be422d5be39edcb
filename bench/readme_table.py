"""The README's benchmark table: every key the benchmarks write, its goal and its last measured value.

    .venv/bin/python -m bench.readme_table     # the table, values from bench/results.json

FIGURES lists each key with what it measures and its goal (the issue that asked for it; "–" where the
figure is there to read another one against). tests/test_bench_readme_table.py holds that every key a
benchmark can write is listed here and that README.md has a row for each; bench/results.json is
git-ignored, so the values in README.md are those of the machine that last ran `make bench`.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

from bench.results import RESULTS

REPO = Path(__file__).resolve().parents[1]
NOT_MEASURED = "not measured"

_REVIEW = {
    "pending_p99_ms": ("review queue page p99 latency, 32 connections (ms)", "≤ 50"),
    "pending_rps": ("review queue pages per second", "≥ 1,000"),
    "pending_non_2xx": ("review queue answers other than 2xx", "0"),
    "approvals_per_s": ("approvals per second, 32 connections", "≥ 500"),
    "approvals_done": ("approvals the run made (checked against the database)", "–"),
    "approvals_p99_ms": ("approval p99 latency (ms)", "–"),
}
_FAULT_ASSETS = ("dataset_images", "lora_checkpoints", "shot_keyframes", "shot_clips")

# key -> (what it measures, goal), grouped by benchmark in `make bench` order.
FIGURES: dict[str, tuple[str, str]] = {
    "api_import_s": ("fresh process: import the review service and build its app (s)", "≤ 0.5"),
    "api_import_floor_s": ("the same for a one-route FastAPI app, for scale (s)", "–"),
    "api_import_over_floor_s": ("what the service adds to that floor, median of the rounds' differences (s)", "–"),
    "api_first_answer_s": ("fresh process: build the app and answer /api/health/live through every middleware (s)",
                           "–"),
    "api_all_routes_s": ("fresh process: build the app and every route, which are otherwise built on first use (s)",
                         "–"),
    "sensor_tick_s": ("one replenishment sensor tick, 1,000 characters, 200k images (s)", "≤ 1"),
    "sensor_tick_queries": ("SQL round trips of that tick at 1,000 characters", "= sensor_tick_queries_100"),
    "sensor_tick_queries_100": ("the same at 100 characters", "–"),
    "learning_gain": ("approval rate of the last 5 simulated batches over the first 5", "≥ 1.5"),
    "code_location_load_s": ("fresh process: import and load the Definitions, median (s)", "≤ 3"),
    "code_location_load_max_s": ("the same, slowest (s)", "–"),
    "overhead_ms_per_image": ("dataset batch of 100 against instant doubles, wall time per image (ms)", "≤ 20"),
    "overhead_latency_p50_ms": ("median submit-to-decision latency (ms)", "–"),
    "overhead_images_recorded": ("images that batch recorded", "100"),
    "overhead_cpu_ms_per_image": ("CPU of that batch's process per image, the pipeline's own (ms)", "–"),
    "overhead_doubles_cpu_ms_per_image": ("CPU of the ComfyUI and Ollama doubles per image, on the same cores (ms)",
                                          "–"),
    "overhead_db_cpu_ms_per_image": ("CPU of PostgreSQL per image (ms)", "–"),
    "gpu_duty_pct": ("share of a 20-image batch the 1 s-per-job GPU double was busy (%)", "≥ 98"),
    "gpu_duty_jobs": ("jobs that batch ran", "20"),
    "gpu_duty_fast_pct": ("the same at 0.2 s per job, 50 images (%)", "≥ 98"),
    "gpu_duty_fast_jobs": ("jobs that batch ran", "50"),
    "dedup_threshold": ("pHash distance the code treats as a near-duplicate", "–"),
    "dedup_false_positive_rate": ("distinct preview images taken for duplicates", "0"),
    "dedup_false_negative_rate": ("near-duplicates (re-encoded, resized, shifted) missed", "0"),
    "dedup_query_ms": ("one duplicate check against 100k stored hashes, median (ms)", "≤ 5"),
    "dedup_query_p99_ms": ("the same, p99 (ms)", "–"),
    "demo_seconds": ("`studio demo` end to end in a fresh home (s)", "≤ 300"),
    "demo_cpu_seconds": ("CPU seconds the demo and its children used (s)", "–"),
    "demo_load_avg_1m": ("the machine's 1-minute load average around it", "–"),
    "assembly_vs_copy_ratio": ("cuts-only episode of 20 clips over copying the same bytes, median", "≤ 2"),
    "assembly_vs_copy_ratio_min": ("the same, lowest round", "–"),
    "assembly_vs_copy_ratio_max": ("the same, highest round", "–"),
    "assembly_vs_cp_ratio": ("the assembly over a `cp` process copying the clips, median", "–"),
    "assembly_vs_cp_ratio_min": ("the same, lowest round", "–"),
    "assembly_vs_cp_ratio_max": ("the same, highest round", "–"),
    "assembly_vs_copy_cpu_ratio": ("CPU seconds of the assembly over those of the copy", "–"),
    "assembly_vs_cp_cpu_ratio": ("CPU seconds of the assembly over those of `cp`", "–"),
    "assembly_20_clips_s": ("that assembly (s)", "–"),
    "assembly_copy_20_clips_s": ("the copy it is read against (s)", "–"),
    "assembly_cp_20_clips_s": ("the `cp` it is read against (s)", "–"),
    "assembly_20_clips_mb": ("the clips' size (MB)", "–"),
    "assembly_stream_copy": ("1 when the sound was already at -16 LUFS and only copied", "1"),
    "assembly_vs_copy_ratio_with_gain": ("the same ratio with sound that must be normalised", "–"),
    "episode_lufs_error": ("a published episode's distance from −16 LUFS integrated (LU)", "≤ 1.0"),
    "episode_true_peak_dbtp": ("its true peak (dBTP)", "–"),
    "episode_true_peak_under_ceiling": ("1 when the true peak is under the ceiling", "1"),
    "episode_loudness_normalization_linear": ("1 when loudnorm stayed linear", "–"),
    "episode_loudness_corrected": ("1 when a second pass corrected the loudness", "–"),
    "db_down_503_s": ("database stopped to the first 503 (s)", "≤ 2"),
    "db_recovery_s": ("database back to the first 200, no API restart (s)", "≤ 2"),
    "slot_recovery_s": ("GPU run SIGKILLed to the next GPU run starting, real daemon (s)", "≤ 120"),
    "comfyui_restart_cost_s": ("a 1 s job whose ComfyUI restarts mid-job (1 s down): wall time beyond both (s)", "–"),
    "comfyui_gone_fail_s": ("ComfyUI gone mid-job, unreachable_timeout_s 5: stop to 'not reachable' (s)", "≤ 5"),
    "db_restart_resume_s": ("studio database back to a batch write retried through the outage committed (s)", "–"),
    **{key: (f"{what}, 100k images", goal) for key, (what, goal) in _REVIEW.items()},
    **{f"{key}_1m": (f"{what}, 1M images", goal if key == "pending_p99_ms" else "–")
       for key, (what, goal) in _REVIEW.items()},
    "scene_sound_realtime_x": ("60 s scene with voices and music: scene seconds per wall second", "≥ 5"),
    "dialogue_offset_ms": ("worst planned-to-heard offset of a dialogue line (ms)", "≤ 40"),
    "scene_remix_s": ("re-mix of that scene, lines cached (s)", "–"),
    "shots_rerendered_after_edit": ("shots rendered again after editing shot 7 of 10", "≤ 4"),
    "shots_rerendered_after_dialogue_edit": ("the same after editing only its dialogue", "0"),
    "shot_overhead_s": ("FramePack wall time per shot beside 1 s of GPU (s)", "≤ 0.5"),
    "continuity_psnr_db": ("lowest last-frame to next-first-frame PSNR over a 10-shot chain (dB)", "≥ 35"),
    "training_overhead_s": ("preview LoRA training through Dagster minus the bare trainer (s)", "≤ 2"),
    "training_preview_bare_s": ("the bare preview trainer, for scale (s)", "–"),
    **{f"fault_slot_recovery_s_{asset}": (f"fault test: {asset} run SIGKILLed to the re-run holding the GPU "
                                          "slot (s)", "–") for asset in _FAULT_ASSETS},
}

# Keys built at run time, as their source spells them, and the keys each can write. The scan sees a new
# spelling, not a new value of `key` or `scenario.asset`: a benchmark that gains one adds it here.
DYNAMIC_KEYS: dict[str, tuple[str, ...]] = {
    "f'{key}_pct'": ("gpu_duty_pct", "gpu_duty_fast_pct"),
    "f'{key}_jobs'": ("gpu_duty_jobs", "gpu_duty_fast_jobs"),
    "f'{key}{suffix}'": tuple(f"{key}{suffix}" for suffix in ("", "_1m") for key in _REVIEW),
    "f'fault_slot_recovery_s_{scenario.asset}'": tuple(f"fault_slot_recovery_s_{a}" for a in _FAULT_ASSETS),
}
# Dict keys in the benchmarks that are not figures: bench_review_api's parse of wrk's output (renamed
# before it is recorded) and what the fault test counts per asset.
NOT_FIGURES = frozenset({"requests", "rps", "p99_ms", "non_2xx", "images", "batches", "checkpoints", "files",
                         "shots"})


def _value(value) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def readme_table(results: dict) -> str:
    rows = ["| key | what it measures | goal | last measured |", "| --- | --- | --- | --- |"]
    for key, (what, goal) in FIGURES.items():
        measured = _value(results[key]) if key in results else NOT_MEASURED
        rows.append(f"| `{key}` | {what} | {goal} | {measured} |")
    return "\n".join(rows)


def _dict_keys(node: ast.Dict | ast.DictComp) -> list[str]:
    keys = node.keys if isinstance(node, ast.Dict) else [node.key]
    return [k.value if isinstance(k, ast.Constant) else ast.unparse(k) for k in keys if k is not None]


def written_keys(source: str) -> set[str]:
    """The figure keys a module can write: keys of a dict passed to record(), returned by a function,
    or stored into `figures[...]`; a key built at run time comes as its source (f'{key}_pct')."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "record" and node.args \
                and isinstance(node.args[0], (ast.Dict, ast.DictComp)):
            found.update(_dict_keys(node.args[0]))
        elif isinstance(node, ast.Return) and isinstance(node.value, ast.Dict):
            found.update(_dict_keys(node.value))
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript) and getattr(target.value, "id", None) == "figures":
                    index = target.slice
                    found.add(index.value if isinstance(index, ast.Constant) else ast.unparse(index))
    return found


def recording_modules() -> list[Path]:
    """Every module that records figures: the benchmarks and the fault tests."""
    candidates = [*sorted((REPO / "bench").glob("bench_*.py")), *sorted((REPO / "tests").rglob("*.py"))]
    return [p for p in candidates if "from bench.results import record" in p.read_text()]


def unlisted_keys() -> dict[str, set[str]]:
    """Per module, the keys it can write that FIGURES (through DYNAMIC_KEYS) does not list."""
    missing = {}
    for path in recording_modules():
        keys = set()
        for key in written_keys(path.read_text()) - NOT_FIGURES:
            keys.update(DYNAMIC_KEYS.get(key, (key,)))
        if unlisted := keys - FIGURES.keys():
            missing[str(path.relative_to(REPO))] = unlisted
    return missing


def main() -> int:
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    print(readme_table(results))
    for key in sorted(results.keys() - FIGURES.keys()):
        print(f"{key} is in {RESULTS.name} but not in bench/readme_table.py FIGURES", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
