"""`studio demo` in its own process: the whole graph, a person's stand-in, the summary and the lineage."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from anime_assets.definitions import defs
from studio.db.embedded import stop_embedded_server
from studio.db.pool import connect
from tests.conftest import EXAMPLE_SPEC, REPO, TEMPLATE_DB, _create_database

EMBER_DECISIONS_SQL = """
SELECT i.status, i.decided_by, i.reviewer, count(*) AS n FROM images i JOIN characters c ON c.id = i.character_id
 WHERE c.slug = 'ember' AND i.status <> 'pending' GROUP BY 1, 2, 3
"""
DEMO_TRAIL_SQL = """
SELECT (SELECT count(*) FROM review_feedback WHERE reviewer = 'demo') AS feedback,
       (SELECT count(*) FROM studio_events WHERE kind = 'image_decided' AND image_id IN
               (SELECT id FROM images WHERE reviewer = 'demo')) AS events
"""


async def _query(db_url: str, sql: str) -> list[dict]:
    async with connect(db_url) as conn:
        return [dict(r) for r in await conn.fetch(sql)]


@pytest.fixture(scope="module")
def demo(pg_server_url, tmp_path_factory):
    """One demo run in a fresh home for every test of this file: (stdout, home, database URL, env)."""
    db_url = _create_database(pg_server_url, TEMPLATE_DB)
    home = tmp_path_factory.mktemp("demo") / "home"
    env = {**os.environ, "STUDIO_HOME": str(home), "STUDIO_DATABASE_URL": db_url, "STUDIO_BACKEND": "preview"}
    env.pop("DAGSTER_HOME", None)
    try:
        done = subprocess.run([sys.executable, "-m", "studio.cli", "demo", "--spec", str(EXAMPLE_SPEC)],
                              capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        yield done.stdout, home, db_url, env
    finally:
        stop_embedded_server(home / "pg")


@pytest.mark.timeout(420)
def test_demo_runs_every_step_with_progress_and_its_runs_in_postgres(demo):
    """The demo sets up its own Dagster home: runs and pools in the embedded PostgreSQL, not SQLite."""
    stdout, home, _, env = demo
    for step in ("import", "partitions", "characters", "datasets", "review", "story", "autonomy", "training",
                 "shots", "scene videos", "episodes"):
        assert f"] {step}: " in stdout and f"      {step} done in " in stdout, step
    assert "characters_job [ember]: ok" in stdout
    assert "episode_plans_job [lantern-harbor-e01]: ok" in stdout
    assert "episodes_job [lantern-harbor-e01]: ok" in stdout
    assert "4 replenishment ticks" in stdout
    # Setting the home up again (make demo after make webserver) changes nothing and fails nothing.
    again = subprocess.run([sys.executable, "-m", "studio.cli", "dagster-init"],
                           capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert again.returncode == 0, again.stderr
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        records = instance.get_run_records()
        manual = [r for r in records if "studio/autonomy" not in r.dagster_run.tags]
        # One run per "ok (run ...)" line the demo printed; the autonomy step's batches come on top.
        assert len(manual) == stdout.count(": ok (run ")
        assert {r.dagster_run.tags.get("studio/origin") for r in records} == {"demo"}
        assert instance.event_log_storage.get_concurrency_info("gpu").slot_count == 1


@pytest.mark.timeout(420)
def test_the_demo_decides_for_the_non_human_character_as_a_person_and_says_so(demo):
    stdout, _, db_url, _ = demo
    assert "demo reviewer, acting as a person for non-human ember" in stdout
    decided = asyncio.run(_query(db_url, EMBER_DECISIONS_SQL))
    approved = [d for d in decided if d["status"] == "approved"]
    # Every approval of the dragon is a human decision, signed by the demo: none is automatic.
    assert approved and all((d["decided_by"], d["reviewer"]) == ("human", "demo") for d in approved), decided
    [trail] = asyncio.run(_query(db_url, DEMO_TRAIL_SQL))
    demo_decisions = sum(d["n"] for d in decided if d["reviewer"] == "demo")
    # The same write a person's approval makes: a feedback row and an image_decided event per image.
    assert trail == {"feedback": demo_decisions, "events": demo_decisions}


@pytest.mark.timeout(420)
def test_the_summary_gives_counts_decisions_gpu_seconds_and_the_episode_paths(demo):
    stdout, home, _, _ = demo
    summary = stdout[stdout.index("\nsummary\n"):]
    figures = json.loads((home / "demo-summary.json").read_text())
    images = {c["character"]: c for c in figures["images"]}
    assert set(images) == {"ember", "mika"}
    for slug, c in images.items():
        assert c["generated"] == c["approved"] + c["rejected"] + c["pending"] > 0
        assert f"    {slug} ({'non-human' if slug == 'ember' else 'human'}): {c['generated']} generated, " \
               f"{c['approved']} approved" in summary
    assert images["ember"]["decided_by_demo"] > 0 and images["mika"]["decided_by_demo"] == 0
    assert any(d["kind"] == "replenishment" and d["action"] == "requested" for d in figures["autonomy_decisions"])
    assert "autonomy decisions: " in summary and "replenishment requested" in summary
    [lora] = figures["loras"]
    assert lora["active"] and f"LoRA: {lora['character']} v1" in summary
    [shots] = figures["shots"]
    assert shots["rendered"] == shots["shots"] == 3 and "shots of lamp-goes-out: 3/3 rendered" in summary
    gpu = figures["gpu_seconds"]
    assert gpu["shot_clips"] > 0
    assert gpu["total"] == pytest.approx(sum(v for k, v in gpu.items() if k != "total"), abs=0.01)
    assert f"GPU seconds: {gpu['total']:.1f} in total" in summary
    assert [s["step"] for s in figures["steps"]][:3] == ["set-up", "import", "partitions"]
    [episode] = figures["episodes"]
    for key in ("video", "thumbnail", "published_video"):
        assert Path(episode[key]).is_file() and Path(episode[key]).stat().st_size > 0, key
    assert Path(episode["published_tree"]).is_dir() and episode["published_files"] >= 2
    for path in (episode["video"], episode["thumbnail"], episode["published_tree"]):
        assert path in summary
    assert figures["failed_runs"] == 0 and "0 failed run(s)" in stdout


@pytest.mark.timeout(420)
def test_after_the_demo_every_asset_has_a_materialization_so_the_ui_shows_its_lineage(demo):
    _, home, _, _ = demo
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        missing = [key.to_user_string() for key in defs.resolve_all_asset_keys()
                   if not instance.fetch_materializations(key, limit=1).records]
    assert missing == []


def test_the_asset_graph_leads_from_characters_to_published_episodes():
    graph = defs.resolve_asset_graph()
    below_characters = dg.AssetSelection.assets("characters").downstream().resolve(graph)
    assert {dg.AssetKey("lora_checkpoints"), dg.AssetKey("shot_keyframes"),
            dg.AssetKey("published_episodes")} <= below_characters
