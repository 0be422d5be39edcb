"""The sample gate picks the better checkpoint, and the active LoRA is what later batches render with."""

import asyncio

import dagster as dg
import pytest

from studio.datasets import repository
from studio.datasets.batch import run_batch
from studio.datasets.generators import PreviewImageGenerator
from studio.db.pool import create_pool
from studio.review.reviewers import PreviewImageReviewer
from tests.training_seed import query, ready_to_train, train


@pytest.fixture
def mika(studio_env, db_url):
    return ready_to_train(db_url, studio_env)


def checkpoints(db_url):
    return query(db_url, "SELECT version, is_active, quality_score, lora_name, gate_reason FROM lora_checkpoints "
                         "ORDER BY version")


def test_gate_keeps_the_better_checkpoint_active(mika, db_url):
    with dg.instance_for_test() as instance:
        assert train(instance, db_url, mika).success
        [first] = checkpoints(db_url)
        assert first["is_active"] and first["gate_reason"] == "first checkpoint of this character"
        query(db_url, "UPDATE lora_checkpoints SET quality_score = 1.0 WHERE version = 1")  # unbeatable
        assert train(instance, db_url, mika).success
        assert [c["is_active"] for c in checkpoints(db_url)] == [True, False]
        query(db_url, "UPDATE lora_checkpoints SET quality_score = 0.0 WHERE version = 1")  # easily beaten
        assert train(instance, db_url, mika).success
    rows = checkpoints(db_url)
    assert [c["is_active"] for c in rows] == [False, False, True]
    assert "better than the active 0.000" in rows[2]["gate_reason"]
    decisions = query(db_url, "SELECT action FROM autonomy_decisions WHERE kind = 'lora_gate' ORDER BY id")
    assert [d["action"] for d in decisions] == ["activate", "keep_previous", "activate"]


def test_later_batches_render_with_the_active_lora(mika, db_url):
    with dg.instance_for_test() as instance:
        assert train(instance, db_url, mika).success
    [active] = checkpoints(db_url)
    seen = []

    class Recording(PreviewImageGenerator):
        async def generate(self, request, log):
            seen.append(request.style.lora_name)
            return await super().generate(request, log)

    async def batch():
        pool = await create_pool(db_url)
        character = await repository.load_character(pool, "mika")
        await run_batch(pool, character, Recording(max_side=128), PreviewImageReviewer(), mika / "media", count=2)
        await pool.close()

    asyncio.run(batch())
    assert active["lora_name"] == "mika/mika_v1.safetensors"
    assert seen == [active["lora_name"]] * 2
