"""The learner in a simulated world: approval odds depend on the parameters, around a hidden optimum."""

import asyncio

from studio.autonomy.simulation import approval_odds, learning_gain, simulate
from studio.cli import main as studio
from studio.datasets import repository
from studio.db.pool import create_pool
from tests.conftest import EXAMPLE_SPEC


def _simulate(db_url, media_root, batches, seed):
    async def go():
        pool = await create_pool(db_url)
        try:
            character = await repository.load_character(pool, "mika")
            results = await simulate(pool, character, media_root, batches=batches, seed=seed)
            history = await pool.fetch("SELECT parameters, strategy FROM generation_history ORDER BY id")
            return results, history
        finally:
            await pool.close()
    return asyncio.run(go())


def test_approval_rises_over_batches_and_corrections_follow_the_reasons(studio_env, db_url):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    results, history = _simulate(db_url, studio_env / "media", batches=60, seed=0)
    odds = [approval_odds(r.parameters) for r in results]
    # What the learner chose got better (the hidden odds) and so did what was actually approved.
    assert sum(odds[-10:]) / 10 > sum(odds[:10]) / 10 + 0.15
    assert learning_gain(results) >= 1.5
    # Each batch's provenance names its arm and strategy; a strategy answers the previous batch's reasons.
    assert len(history) == 60 and all(h["parameters"]["arm"] for h in history)
    for before, after in zip(results, results[1:]):
        reasons = after.parameters["provenance"]["reasons"]
        strategy = after.parameters["provenance"]["strategy"]
        if not before.rejected:
            assert strategy is None and not reasons
        elif set(reasons) == {"blurry"}:
            assert strategy in ("raise_steps", "switch_sampler")
        elif set(reasons) == {"off_model_colours"}:
            assert strategy in ("raise_ipadapter_weight", "adjust_cfg")
