"""A run SIGKILLed in the middle of each GPU asset, then run again: nothing finished is lost, nothing is
registered twice, no shot is left `rendering`, no half-written file sits under a final name, nothing of
the killed run goes on working, and the `gpu` slot comes back so the next GPU run starts.

The harness (tests/faults/gpu_run_harness.py) runs both runs as real processes on a real instance with
the one `gpu` slot on PostgreSQL; the figure per asset is the time from the kill to the re-run holding
the slot, with the dead-run reaper called every second (bench/results.json `fault_slot_recovery_s`).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import dagster as dg
import pytest

from anime_assets.resources_by_backend import build_resources
from anime_assets.shots import shot_keyframes
from anime_assets.training import training_dataset
from bench.results import record
from studio.dagster_home import initialize_pools
from studio.training.lora_file import file_sha256
from tests.dagster_pg_home import dagster_home
from tests.faults.gpu_run_harness import kill_mid_step_and_rerun, temporary_files, unreadable_files
from tests.training_seed import add_approved, import_example, query

pytestmark = pytest.mark.fault

SCENE = "lamp-goes-out"
# The set-up runs in this process: its events are stored, the terminal gets warnings only.
QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class Case:
    """One studio, its database, its instance, and what the test saw right after the kill."""
    db_url: str
    home: Path
    instance: dg.DagsterInstance
    after_kill: dict | None = None

    @property
    def media(self) -> Path:
        return self.home / "media"

    def rows(self, sql: str, *args) -> list[dict]:
        return query(self.db_url, sql, *args)


@dataclass(frozen=True)
class Scenario:
    asset: str
    partition: str
    delay_s: float  # per preview item: an image, its review, a training epoch, a shot
    prepare: Callable[[Case], None]
    mid_step: Callable[[Case, str], bool]
    state: Callable[[Case], dict]
    check: Callable[[Case, dict, dict], None]
    run_config: dict | None = None

    def __str__(self) -> str:
        return self.asset


# --- dataset_images: a batch of 6 images, killed after some are registered -----------------------------

BATCH = 6


def _dataset_prepare(case: Case) -> None:
    case.instance.add_dynamic_partitions("character", ["mika"])


def _dataset_mid_step(case: Case, run_id: str) -> bool:
    """Some images registered, not all: with the reviewer slowed too, the kill mostly lands while an image
    is written under its final name and still in review (no row yet, the slow step with a vision model)."""
    [row] = case.rows("SELECT count(*) AS n FROM images WHERE dagster_run_id = $1", run_id)
    return 1 <= row["n"] < BATCH


def _dataset_state(case: Case) -> dict:
    return {
        "images": case.rows("SELECT id, sha256, file_path, status, review IS NOT NULL AS reviewed, dagster_run_id "
                            "FROM images ORDER BY id"),
        "batches": case.rows("SELECT dagster_run_id, status FROM generation_history ORDER BY id"),
    }


def _dataset_check(case: Case, killed: dict, after: dict) -> None:
    before = {r["id"]: r for r in killed["images"]}
    now = {r["id"]: r for r in after["images"]}
    assert set(before) <= set(now), "images registered before the kill were lost"
    assert all(now[i]["sha256"] == before[i]["sha256"] for i in before)
    # The re-run repeats the killed batch's seeds: what was registered is found, not registered again.
    assert len(now) == BATCH and len({r["sha256"] for r in now.values()}) == BATCH
    assert all((case.media / r["file_path"]).is_file() for r in now.values())
    assert all(r["reviewed"] for r in now.values()), "an image was registered without its review"
    on_disk = sorted(str(p.relative_to(case.media)) for p in (case.media / "datasets/mika/images").iterdir())
    assert on_disk == sorted(r["file_path"] for r in now.values()), "an image file without its row"
    assert [b["status"] for b in after["batches"]] == ["failed", "succeeded"], after["batches"]


# --- lora_checkpoints: a training killed after its first epoch ----------------------------------------

def _training_prepare(case: Case) -> None:
    case.rows("UPDATE characters SET target_images = 3 WHERE slug = 'mika'")
    add_approved(case.db_url, case.home, "mika", 3)
    case.instance.add_dynamic_partitions("character", ["mika"])
    assert dg.materialize([training_dataset], partition_key="mika", instance=case.instance,
                          resources=build_resources("preview"), run_config=QUIET_RUN).success


def _training_mid_step(case: Case, run_id: str) -> bool:
    return any("epoch 1/" in (e.user_message or "") for e in case.instance.all_logs(run_id))


def _training_state(case: Case) -> dict:
    return {"checkpoints": case.rows("SELECT version, file_path, sha256, dagster_run_id FROM lora_checkpoints"),
            "files": sorted(str(p.relative_to(case.media)) for p in (case.media / "loras").rglob("*") if p.is_file())
            if (case.media / "loras").exists() else []}


def _training_check(case: Case, killed: dict, after: dict) -> None:
    assert killed == {"checkpoints": [], "files": []}, f"the killed training left {killed}"
    [row] = after["checkpoints"]
    assert row["version"] == 1 and file_sha256(case.media / row["file_path"]) == row["sha256"]
    assert [f for f in after["files"] if f.endswith(".safetensors")] == [row["file_path"]]


# --- shot_keyframes: every shot opens a chain; killed between two shots' candidates -------------------

def _scene_prepare(case: Case) -> None:
    case.instance.add_dynamic_partitions("scene", [SCENE])


def _keyframes_prepare(case: Case) -> None:
    _scene_prepare(case)
    case.rows("UPDATE shots SET cut = true")  # three chain openers, two of them with a character


def _keyframes_mid_step(case: Case, run_id: str) -> bool:
    done = [r for r in _shots(case) if r["keyframe_sha256"]]
    return 1 <= len(done) < 3


def _shots(case: Case) -> list[dict]:
    return case.rows("SELECT shot_key, status, keyframe_path, keyframe_sha256, clip_path, rendered_at FROM shots "
                     "ORDER BY position")


def _shots_state(case: Case) -> dict:
    return {"shots": _shots(case)}


def _keyframes_check(case: Case, killed: dict, after: dict) -> None:
    before = {s["shot_key"]: s for s in killed["shots"] if s["keyframe_sha256"]}
    now = {s["shot_key"]: s for s in after["shots"]}
    assert all(now[k]["keyframe_path"] == s["keyframe_path"] for k, s in before.items()), "a keyframe was made again"
    assert all(s["keyframe_sha256"] and (case.media / s["keyframe_path"]).is_file() for s in now.values())
    for shot in now.values():
        folder = (case.media / shot["keyframe_path"]).parent
        assert [p.name for p in folder.glob("keyframe-*")] == [os.path.basename(shot["keyframe_path"])]


# --- shot_clips: three shots, killed while the second or third renders --------------------------------

def _clips_prepare(case: Case) -> None:
    _scene_prepare(case)
    assert dg.materialize([shot_keyframes], partition_key=SCENE, instance=case.instance,
                          resources=build_resources("preview"), run_config=QUIET_RUN).success


def _clips_mid_step(case: Case, run_id: str) -> bool:
    """A shot rendered, the next one being encoded (its clip still under a temporary name)."""
    statuses = Counter(s["status"] for s in _shots(case))
    encoding = list((case.media / "shots" / SCENE).rglob(".clip-*"))
    return statuses["rendered"] >= 1 and statuses["rendering"] == 1 and bool(encoding)


def _clips_check(case: Case, killed: dict, after: dict) -> None:
    assert [s["status"] for s in killed["shots"]].count("rendering") == 1
    before = {s["shot_key"]: s for s in killed["shots"] if s["status"] == "rendered"}
    now = {s["shot_key"]: s for s in after["shots"]}
    assert all(now[k]["clip_path"] == s["clip_path"] and now[k]["rendered_at"] == s["rendered_at"]
               for k, s in before.items()), "a shot finished before the kill was rendered again"
    assert [s["status"] for s in now.values()] == ["rendered"] * 3
    for shot in now.values():
        folder = (case.media / shot["clip_path"]).parent
        assert [p.name for p in folder.glob("clip-*")] == [os.path.basename(shot["clip_path"])]


SCENARIOS = [
    Scenario("dataset_images", "mika", 3.0, _dataset_prepare, _dataset_mid_step, _dataset_state, _dataset_check,
             run_config={"ops": {"dataset_images": {"config": {"count": BATCH}}}}),
    Scenario("lora_checkpoints", "mika", 8.0, _training_prepare, _training_mid_step, _training_state,
             _training_check),
    Scenario("shot_keyframes", SCENE, 2.0, _keyframes_prepare, _keyframes_mid_step, _shots_state,
             _keyframes_check),
    Scenario("shot_clips", SCENE, 5.0, _clips_prepare, _clips_mid_step, _shots_state, _clips_check),
]


@pytest.mark.timeout(180)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_a_gpu_run_killed_mid_step_is_run_again_with_nothing_lost_or_doubled(scenario, studio_env, db_url,
                                                                           pg_server_url, tmp_path, monkeypatch):
    home = dagster_home(tmp_path, pg_server_url)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    import_example(studio_env)
    with dg.DagsterInstance.get() as instance:
        initialize_pools(instance)
        case = Case(db_url, studio_env, instance)
        scenario.prepare(case)

        def seen_after_kill() -> None:
            case.after_kill = scenario.state(case)

        env = {**os.environ, "STUDIO_PREVIEW_DELAY_S": str(scenario.delay_s)}
        outcome = kill_mid_step_and_rerun(instance, env, scenario.asset, scenario.partition,
                                          scenario.run_config or {}, lambda run_id: scenario.mid_step(case, run_id),
                                          tmp_path, seen_after_kill)
        after = scenario.state(case)
        claimed = instance.event_log_storage.get_concurrency_info("gpu").claimed_slots
    print(f"{scenario.asset}: slot back {outcome.slot_recovery_s:.2f} s after the kill")
    assert outcome.survivors == set(), f"processes of the killed run still working: {outcome.survivors}"
    assert outcome.killed.status == dg.DagsterRunStatus.FAILURE
    assert outcome.rerun.status == dg.DagsterRunStatus.SUCCESS
    assert claimed == []
    assert unreadable_files(case.media) == []
    assert temporary_files(case.media) == [], "half-written temporaries left behind"
    scenario.check(case, case.after_kill, after)
    assert outcome.slot_recovery_s < 30
    record({f"fault_slot_recovery_s_{scenario.asset}": round(outcome.slot_recovery_s, 2)})
