"""Dataset batches end to end: generation, dedup, registration, review and decisions in the real DB."""

import asyncio

import dagster as dg
import pytest

from anime_assets.datasets import approved_images, dataset_images
from resources.database import StudioDatabase
from resources.image_generation import PreviewImageGeneratorResource
from resources.image_review import PreviewImageReviewerResource
from resources.studio_config import StudioConfig
from studio.cli import main as studio
from studio.datasets import repository
from studio.datasets.batch import run_batch
from studio.datasets.generators import PreviewImageGenerator
from studio.db.pool import connect, create_pool
from studio.review.reviewers import PreviewImageReviewer
from tests.conftest import EXAMPLE_SPEC


def fetch(db_url, sql, *args):
    async def _go():
        async with connect(db_url) as conn:
            return [dict(r) for r in await conn.fetch(sql, *args)]

    return asyncio.run(_go())


@pytest.fixture
def imported(studio_env, db_url):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    return studio_env


def materialize(db_url, home, partition, count=4, instance=None, generator=None, reviewer=None):
    resources = {
        "database": StudioDatabase(url=db_url),
        "studio": StudioConfig(backend="preview", home=str(home)),
        "image_generator": generator or PreviewImageGeneratorResource(),
        "image_reviewer": reviewer or PreviewImageReviewerResource(),
    }
    run_config = {"ops": {"dataset_images": {"config": {"count": count}}}}
    with (dg.instance_for_test() if instance is None else _keep(instance)) as inst:
        inst.add_dynamic_partitions("character", [partition])
        return dg.materialize([dataset_images, approved_images], partition_key=partition, instance=inst,
                              resources=resources, run_config=run_config)


class _keep:
    def __init__(self, instance):
        self.instance = instance

    def __enter__(self):
        return self.instance

    def __exit__(self, *exc):
        return False


def test_preview_batch_registers_reviews_and_records_provenance(imported, db_url):
    result = materialize(db_url, imported, "mika", count=6)
    assert result.success
    rows = fetch(db_url, "SELECT i.* FROM images i JOIN characters c ON c.id = i.character_id "
                         "WHERE c.slug = 'mika' ORDER BY i.id")
    meta = result.asset_materializations_for_node("dataset_images")[0].metadata
    assert meta["backend"].value == "preview"
    assert len(rows) == meta["generated"].value - meta["duplicates_skipped"].value
    assert rows, "a batch of six produced no image"
    for row in rows:
        assert row["backend"] == "preview" and row["source"] == "generated"
        assert row["prompt"].startswith("masterpiece") and "mika" not in row["negative_prompt"]
        assert "red raincoat" in row["negative_prompt"]  # the character's common error
        assert row["seed"] is not None and row["sha256"] and row["review"]["backend"] == "preview"
        assert (imported / "media" / row["file_path"]).is_file()
        assert row["status"] in ("approved", "rejected", "pending")
        assert (row["decided_by"] == "auto") == (row["status"] != "pending")
    decided = {s: sum(1 for r in rows if r["status"] == s) for s in ("approved", "rejected", "pending")}
    assert decided == {s: meta[k].value for s, k in
                       (("approved", "approved"), ("rejected", "rejected"), ("pending", "pending_review"))}
    [history] = fetch(db_url, "SELECT * FROM generation_history")
    assert history["status"] == "succeeded" and history["requested"] == 6
    approved_meta = result.asset_materializations_for_node("approved_images")[0].metadata
    assert approved_meta["approved"].value == decided["approved"]
    assert approved_meta["target"].value == 12


def test_non_human_character_is_never_auto_approved(imported, db_url):
    assert materialize(db_url, imported, "ember", count=8).success
    rows = fetch(db_url, "SELECT status, review FROM images")
    assert rows and all(r["status"] != "approved" for r in rows)
    assert "human face" in fetch(db_url, "SELECT negative_prompt FROM images LIMIT 1")[0]["negative_prompt"]


def test_rerun_after_a_crash_never_registers_an_image_twice(imported, db_url):
    async def crash_then_rerun():
        pool = await create_pool(db_url)
        character = await repository.load_character(pool, "mika")
        media = imported / "media"

        class CrashAfterTwo(PreviewImageGenerator):
            async def generate(self, request, log):
                image = await super().generate(request, log)
                if request.filename_prefix.endswith("_3"):
                    await asyncio.sleep(3600)  # the process "dies" here: the test cancels the task
                return image

        task = asyncio.create_task(run_batch(pool, character, CrashAfterTwo(), PreviewImageReviewer(), media,
                                             count=4, run_id="crashed", queue_depth=1))
        while await pool.fetchval("SELECT count(*) FROM images") < 3:
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        before = await pool.fetch("SELECT sha256 FROM images")
        report = await run_batch(pool, character, PreviewImageGenerator(), PreviewImageReviewer(), media,
                                 count=4, run_id="rerun")
        after = await pool.fetch("SELECT sha256 FROM images")
        histories = await pool.fetch("SELECT status FROM generation_history ORDER BY id")
        await pool.close()
        return before, after, report, histories

    before, after, report, histories = asyncio.run(crash_then_rerun())
    assert len({r["sha256"] for r in after}) == len(after)  # nothing registered twice
    assert {r["sha256"] for r in before} <= {r["sha256"] for r in after}
    assert report.counts["duplicates"] >= len(before)  # the re-run met the crashed run's images again
    assert [h["status"] for h in histories] == ["failed", "succeeded"]


def test_rejection_feedback_becomes_learned_negatives_in_the_next_batch(imported, db_url):
    assert materialize(db_url, imported, "mika", count=2).success
    fetch(db_url, """INSERT INTO review_feedback (image_id, character_id, decision, categories, reviewer)
                     SELECT id, character_id, 'rejected', ARRAY['extra_limbs', 'not_solo'], 'alice'
                       FROM images ORDER BY id LIMIT 1 RETURNING id""")
    assert materialize(db_url, imported, "mika", count=2).success
    first, *_, last = fetch(db_url, "SELECT negative_prompt, prompt FROM images ORDER BY id")
    assert "extra limbs" not in first["negative_prompt"]
    assert "extra limbs" in last["negative_prompt"]
    assert "solo" in last["prompt"]


def test_approved_images_reports_what_is_missing_until_the_target_is_reached(imported, db_url):
    result = materialize(db_url, imported, "mika", count=6)
    meta = result.asset_materializations_for_node("approved_images")[0].metadata
    approved = meta["approved"].value
    assert approved > 0, "the preview reviewer approved none of six mika images"
    assert (meta["missing"].value, meta["ready"].value) == (12 - approved, False)

    fetch(db_url, "UPDATE characters SET target_images = $1 WHERE slug = 'mika'", approved)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("character", ["mika"])
        again = dg.materialize([approved_images], partition_key="mika", instance=instance, resources={
            "database": StudioDatabase(url=db_url), "studio": StudioConfig(backend="preview", home=str(imported))})
    meta = again.asset_materializations_for_node("approved_images")[0].metadata
    assert (meta["approved"].value, meta["missing"].value, meta["ready"].value) == (approved, 0, True)
