"""Keyframes of chain openers: the vision reviewer's pick of txt2img candidates, or a person's pick."""

import logging

import pytest

from studio.clients.ollama import OllamaClient
from studio.datasets.generators import PreviewImageGenerator
from studio.db.pool import create_pool
from studio.media.clips import sha256_file
from studio.review.reviewers import VisionImageReviewer
from studio.shots.keyframes import ensure_keyframes
from tests.doubles.ollama import OllamaDouble, good_answer
from tests.shot_scene import make_scene

LOG = logging.getLogger("test_shot_keyframes")


def scored(score: float) -> dict:
    return {**good_answer({}), "quality_score": score}


@pytest.fixture
async def pool(db_url):
    pool = await create_pool(db_url, max_size=3)
    async with pool.acquire() as conn:
        await make_scene(conn, shots=3, cuts=(2,))
    yield pool
    await pool.close()


async def test_the_reviewer_picks_the_best_of_the_candidates_for_each_chain_opener(pool, tmp_path):
    with OllamaDouble() as ollama:
        ollama.replies.extend([scored(0.3), scored(0.9), scored(0.5), scored(0.8), scored(0.2), scored(0.1)])
        made = await ensure_keyframes(pool, "harbour-night", tmp_path, size=(160, 96), allow_drawing=False, log=LOG,
                                      generator=PreviewImageGenerator(), reviewer=VisionImageReviewer(
                                          OllamaClient(ollama.url)), candidates=3)
        reviewed = len(ollama.requests)
    assert reviewed == 6  # two chain openers (shot 1 and the cut at shot 3), three candidates each
    assert [m["shot"] for m in made] == ["k01", "k03"]
    assert [m["picked"] for m in made] == [1, 0]
    for m in made:
        picked = tmp_path / m["candidates"][m["picked"]]["path"]
        assert sha256_file(picked) == sha256_file(tmp_path / m["keyframe"])
    again = await ensure_keyframes(pool, "harbour-night", tmp_path, size=(160, 96), allow_drawing=False, log=LOG,
                                   generator=PreviewImageGenerator(), reviewer=None)
    assert [m["changed"] for m in again] == [False, False]  # kept: no new candidates on every run


async def test_a_person_picking_an_approved_image_overrides_the_candidates(pool, tmp_path):
    from PIL import Image
    Image.new("RGB", (300, 200), (10, 120, 200)).save(tmp_path / "approved.png")
    image_id = await pool.fetchval(
        """INSERT INTO images (character_id, file_path, sha256, phash, status)
           SELECT id, 'approved.png', 'abc', 0, 'approved' FROM characters WHERE slug = 'mika' RETURNING id""")
    await pool.execute("UPDATE shots SET keyframe_image_id = $1 WHERE shot_key = 'k01'", image_id)
    made = await ensure_keyframes(pool, "harbour-night", tmp_path, size=(160, 96), allow_drawing=True, log=LOG)
    assert made[0]["source"] == "picked image approved.png"
    keyframe = Image.open(tmp_path / made[0]["keyframe"])
    assert keyframe.size == (160, 96) and keyframe.getpixel((80, 48)) == (10, 120, 200)


class GpuTimedGenerator(PreviewImageGenerator):
    """The preview drawer, reporting GPU time per image as a ComfyUI run does."""

    async def generate(self, request, log):
        return (await super().generate(request, log)).model_copy(update={"gpu_seconds": 1.5})


async def test_the_candidates_gpu_time_is_stored_with_the_keyframe_and_counted_for_its_shot(pool, tmp_path):
    from studio.episodes.gpu_accounting import shot_gpu
    with OllamaDouble() as ollama:
        ollama.replies.extend([scored(0.5)] * 6)
        made = await ensure_keyframes(pool, "harbour-night", tmp_path, size=(160, 96), allow_drawing=False, log=LOG,
                                      generator=GpuTimedGenerator(), reviewer=VisionImageReviewer(
                                          OllamaClient(ollama.url)), candidates=3)
    assert [sum(c["gpu_seconds"] for c in m["candidates"]) for m in made] == [4.5, 4.5]
    async with pool.acquire() as conn:
        shots = await shot_gpu(conn, ["harbour-night"])
    # Chain openers (shots 1 and 3) cost their three candidates; shot 2 continues from shot 1's clip.
    assert [(s["shot"], s["keyframe_candidates_s"], s["gpu_seconds"]) for s in shots] == \
        [("k01", 4.5, 4.5), ("k02", 0.0, 0.0), ("k03", 4.5, 4.5)]
