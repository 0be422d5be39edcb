"""The replenishment sensor on a real Dagster instance and the real DB: guards, pause, run keys, audit."""

import dagster as dg
import pytest
from PIL import Image

from anime_assets.datasets import approved_images
from resources.database import StudioDatabase
from resources.studio_config import StudioConfig
from studio.autonomy.decisions import set_paused
from studio.cli import main as studio
from tests.autonomy_world import Ticker, add_history, add_images, on_conn, requested, set_settings, sql
from tests.conftest import EXAMPLE_SPEC


@pytest.fixture
def world(studio_env, db_url):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("character", ["mika", "ember"])
        yield Ticker(instance, db_url)


def decisions(db_url, slug, kind="replenishment"):
    return sql(db_url, """SELECT d.* FROM autonomy_decisions d JOIN characters c ON c.id = d.character_id
                          WHERE c.slug = $1 AND d.kind = $2 ORDER BY d.id""", slug, kind)


def test_a_character_below_target_gets_a_batch_of_three_with_an_audit_row(world, db_url):
    result = world.tick()
    runs = requested(result)
    assert set(runs) == {"mika", "ember"}
    config = runs["mika"].run_config["ops"]["dataset_images"]["config"]
    assert config["count"] == 3 and config["parameters"]["provenance"]["mode"] == "thompson"
    [row] = decisions(db_url, "mika")
    assert (row["action"], row["run_key"]) == ("requested", runs["mika"].run_key)
    assert row["details"]["guards"]["missing"] == 12 and row["details"]["run_config"] == runs["mika"].run_config


def test_no_duplicate_run_across_ticks_or_after_a_crash_before_launch(world, db_url):
    first = requested(world.tick())
    # The daemon died before launching: the next tick asks again under the same key, same config.
    again = requested(world.tick())
    assert {k: (r.run_key, r.run_config) for k, r in again.items()} == \
        {k: (r.run_key, r.run_config) for k, r in first.items()}
    for request in [*first.values(), *again.values()]:
        world.launch(request)
    assert len(world.instance.get_runs(dg.RunsFilter(job_name="dataset_batch_job"))) == 2
    # Launched and queued: the instance says so, nothing more is requested.
    third = world.tick()
    assert not third.run_requests
    assert {d["details"]["code"] for d in decisions(db_url, "mika")[-1:]} == {"run_in_progress"}
    assert "mika: skipped (run_in_progress)" in third.skip_reason.skip_message


def test_a_finished_run_releases_the_in_progress_guard_and_the_cooldown_holds(world, db_url):
    run = world.launch(requested(world.tick())["mika"])
    assert "mika" not in requested(world.tick())
    world.instance.report_run_failed(run)
    add_history(db_url, "mika", age_s=60)  # the batch started a minute ago
    result = world.tick()
    assert "mika" not in requested(result)
    assert decisions(db_url, "mika")[-1]["details"]["code"] == "cooldown"
    sql(db_url, "UPDATE generation_history SET started_at = now() - interval '16 minutes'")
    new = requested(world.tick())["mika"]
    assert new.run_key != run.tags["dagster/run_key"]  # a new decision, a new key


def test_daily_limit_and_gpu_budget_block_and_release(world, db_url):
    set_settings(db_url, daily_batch_limit=1, cooldown_seconds=0)
    add_history(db_url, "mika", age_s=10, gpu_seconds=5)
    world.tick()
    assert decisions(db_url, "mika")[-1]["details"]["code"] == "daily_limit"
    set_settings(db_url, daily_batch_limit=5, daily_gpu_seconds=4)
    world.tick()
    last = decisions(db_url, "mika")[-1]
    assert last["details"]["code"] == "gpu_budget" and last["details"]["guards"]["project_gpu_seconds_today"] == 5
    assert last["details"]["next_eligible_at"].endswith("T00:00:00+00:00")
    set_settings(db_url, daily_gpu_seconds=100)
    assert "mika" in requested(world.tick())


def test_pending_buffer_waits_for_a_person(world, db_url):
    set_settings(db_url, pending_buffer=2)
    add_images(db_url, "mika", ["pending", "pending"], reviewed=False)
    world.tick()
    assert decisions(db_url, "mika")[-1]["details"]["code"] == "pending_buffer"
    sql(db_url, "UPDATE images SET status = 'approved', decided_by = 'human' WHERE id = (SELECT min(id) FROM images)")
    assert "mika" in requested(world.tick())


def test_five_auto_rejects_pause_until_a_person_resumes(world, db_url):
    add_images(db_url, "mika", ["approved"] + ["rejected"] * 4)
    assert "mika" in requested(world.tick())  # four in a row: not yet
    add_images(db_url, "mika", ["rejected"])
    result = world.tick()
    assert "mika" not in requested(result)
    assert decisions(db_url, "mika")[-1]["action"] == "paused"
    assert "5 consecutive auto-rejects" in decisions(db_url, "mika")[-1]["reason"]
    assert sql(db_url, "SELECT paused FROM character_autonomy ca JOIN characters c ON c.id = ca.character_id "
                       "WHERE c.slug = 'mika'") == [{"paused": True}]
    assert "mika" not in requested(world.tick())
    assert decisions(db_url, "mika")[-1]["details"]["code"] == "paused"
    on_conn(db_url, lambda conn: set_paused(conn, "mika", False, "alice"))
    assert "mika" in requested(world.tick())  # the streak counts afresh after the resume
    assert [d["action"] for d in decisions(db_url, "mika", "control")] == ["resumed"]


def test_every_skip_is_recorded_once_with_its_reason(world, db_url):
    sql(db_url, "UPDATE characters SET target_images = 0 WHERE slug = 'ember'")
    world.tick()
    world.tick()
    [row] = decisions(db_url, "ember")  # the same skip again is not a new decision
    assert row["action"] == "skipped" and row["details"]["code"] == "target_reached"
    assert "target reached" in row["reason"]


def test_a_character_not_yet_a_partition_is_skipped(world, db_url):
    world.instance.delete_dynamic_partition("character", "ember")
    result = world.tick()
    assert set(requested(result)) == {"mika"}
    assert decisions(db_url, "ember")[-1]["details"]["code"] == "no_partition"


DRIFT_CHECK = dg.AssetCheckKey(dg.AssetKey("approved_images"), "approval_drift")


def drift_history(instance, partition):
    records = instance.event_log_storage.get_asset_check_execution_history(DRIFT_CHECK, limit=20)
    return [r.event.dagster_event.event_specific_data for r in records
            if r.event and r.event.dagster_event.event_specific_data.partition == partition]


def test_drift_is_a_decision_row_and_fails_the_approved_images_check_with_the_tests_figures(world, db_url, tmp_path):
    resources = {"database": StudioDatabase(url=db_url),
                 "studio": StudioConfig(backend="preview", home=str(tmp_path))}

    def materialize(slug):  # what approved_images_sensor requests after decisions on the character's images
        for row in sql(db_url, "SELECT file_path FROM images"):  # the contact sheet reads the files
            path = tmp_path / "media" / row["file_path"]
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (8, 8), (200, 120, 40)).save(path, "PNG")
        result = dg.materialize([approved_images], partition_key=slug, instance=world.instance, resources=resources)
        assert result.success  # a WARN check does not fail the run
        return result

    add_images(db_url, "mika", ["approved"] * 40 + ["rejected"] * 4, decided_by="human")
    add_images(db_url, "mika", ["rejected"] * 16 + ["approved"] * 4, decided_by="human")
    world.tick()
    [row] = decisions(db_url, "mika", "drift")
    assert row["action"] == "detected" and row["details"]["p_value"] < 0.01
    world.tick()
    assert len(decisions(db_url, "mika", "drift")) == 1  # recorded when it changes, not every tick
    materialize("mika")
    materialize("ember")
    [recorded] = drift_history(world.instance, "mika")
    assert recorded.passed is False and recorded.severity == dg.AssetCheckSeverity.WARN
    figures = {k: v.value for k, v in recorded.metadata.items()}
    assert figures["p_value"] == row["details"]["p_value"] and figures["z"] > 2 and figures["alpha"] == 0.01
    assert (figures["recent_approved"], figures["recent_decided"]) == (4, 20)
    assert (figures["baseline_approved"], figures["baseline_decided"]) == (40, 44)
    assert "below baseline" in recorded.description and "z-test" in figures["test"]
    [ember] = drift_history(world.instance, "ember")
    assert ember.passed and "not enough decided images" in ember.description
    # Approvals come back: the sensor records the clearing, the next count passes the check.
    add_images(db_url, "mika", ["approved"] * 20, decided_by="human")
    world.tick()
    assert [d["action"] for d in decisions(db_url, "mika", "drift")] == ["detected", "cleared"]
    materialize("mika")
    assert [e.passed for e in drift_history(world.instance, "mika")] == [True, False]  # newest first


def test_the_drift_window_is_the_latest_decided_images_whatever_their_mix(world, db_url):
    import random
    from datetime import datetime, timezone

    from studio.autonomy.facts import read_facts
    from studio.domain.replenishment import Thresholds

    window = Thresholds().drift_window
    add_images(db_url, "ember", ["approved", "pending", "rejected"])  # fewer decided than the window
    statuses = random.Random(3).choices(["approved", "rejected", "pending"], weights=[5, 2, 3], k=4 * window)
    add_images(db_url, "mika", statuses)
    [mika_id] = [r["id"] for r in sql(db_url, "SELECT id FROM characters WHERE slug = 'mika'")]
    now = datetime.now(timezone.utc)
    every = {r["slug"]: r for r in on_conn(db_url, lambda conn: read_facts(conn, now))}
    [one] = on_conn(db_url, lambda conn: read_facts(conn, now, mika_id))
    latest = [s for s in reversed(statuses) if s != "pending"][:window]
    for row in (every["mika"], one):
        assert (row["window_approved"], row["window_decided"]) == (latest.count("approved"), window)
    assert (every["ember"]["window_approved"], every["ember"]["window_decided"]) == (1, 2)
