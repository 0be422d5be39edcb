"""Live captions: the vision model names each training image's tags (caption = trigger word + tags),
a failure keeps the appearance caption, and a caption once written is kept, so the snapshot's hash is
the one the training sensor sees. Against the Ollama double over real HTTP, on the real database."""

import asyncio

import dagster as dg
import pytest

from anime_assets.training import training_dataset
from resources.image_review import VisionImageReviewerResource
from resources.ollama import OllamaResource
from studio.datasets.repository import load_character
from studio.db.pool import connect
from studio.domain.captions import caption_from_tags
from studio.training.dataset import dataset_hash, snapshot_inputs
from tests.doubles.ollama import OllamaDouble, request_image
from tests.training_seed import query, ready_to_train, resources


@pytest.fixture
def mika(studio_env, db_url):
    return ready_to_train(db_url, studio_env)


def test_tags_become_one_safe_caption_after_the_trigger_word():
    caption = caption_from_tags("mika_sts", ["Mika_sts", "solo", "yellow raincoat, rubber boots",
                                             " standing\n on a pier. ", "solo", "", 7, "x" * 80])
    assert caption == "mika_sts, solo, yellow raincoat, rubber boots, standing, on a pier"
    with pytest.raises(ValueError, match="no usable tag"):
        caption_from_tags("mika_sts", ["", " , ", "mika_sts"])


def _materialize(instance, db_url, home, ollama_url):
    live = {**resources(db_url, home),
            "image_reviewer": VisionImageReviewerResource(ollama=OllamaResource(url=ollama_url, timeout_s=5))}
    return dg.materialize([training_dataset], partition_key="mika", instance=instance, resources=live)


def _sensor_hash(db_url) -> str:
    """The hash the training sensor and the API compute, from the database alone."""
    async def go():
        async with connect(db_url) as conn:
            images, _ = await snapshot_inputs(conn, await load_character(conn, "mika"))
            return dataset_hash(images)
    return asyncio.run(go())


def test_vision_captions_with_a_fallback_are_kept_and_match_the_sensors_hash(mika, db_url):
    home = mika
    bad: set[bytes] = set()  # images the model answers badly

    def answer(request):
        image = request_image(request)
        if image in bad:
            return "malformed"
        return {"tags": ["standing", "harbor at night, rain", "mika_sts", f"pose {len(image) % 97}"]}

    first_file = (home / "media" / "datasets/mika/images/test_1.png").read_bytes()
    bad.add(first_file)
    with OllamaDouble(answer=answer) as ollama, dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("character", ["mika"])
        result = _materialize(instance, db_url, home, ollama.url)
        assert result.success
        meta = {k: v.value for k, v in result.asset_materializations_for_node("training_dataset")[0].metadata.items()}
        assert (meta["vision_captions_new"], meta["caption_fallbacks"], meta["vision_captions"]) == (2, 1, 2)
        image_dir = home / "media" / "training" / "mika" / meta["dataset_hash"][:16] / "img"
        ids = meta["image_ids"]
        captions = {i: (image_dir / f"{i}.txt").read_text().strip() for i in ids}
        vision = [captions[ids[0]], captions[ids[2]]]
        assert all(c.startswith("mika_sts, standing, harbor at night, rain, pose ") for c in vision)
        assert all(c.count("mika_sts") == 1 for c in captions.values())
        # The image the model could not caption keeps the caption from the appearance data.
        assert captions[ids[1]].startswith("mika_sts, solo, human, ") and "yellow raincoat" in captions[ids[1]]
        prompt = ollama.requests[0]["messages"][-1]["content"]
        assert "Mika Aoyama" in prompt and ollama.requests[0]["format"]["required"] == ["tags"]
        assert [r["caption"] for r in query(db_url, "SELECT caption FROM training_captions ORDER BY image_id")] == vision
        # The sensor and the API see the hash of what was written: no training asked for twice.
        assert _sensor_hash(db_url) == meta["dataset_hash"]

        # Next time only the image without a kept caption is asked again; now it is captioned too.
        bad.clear()
        asked = len(ollama.requests)
        again = _materialize(instance, db_url, home, ollama.url)
        meta2 = {k: v.value for k, v in again.asset_materializations_for_node("training_dataset")[0].metadata.items()}
        assert len(ollama.requests) - asked == 1 and meta2["vision_captions"] == 3
        assert meta2["dataset_hash"] != meta["dataset_hash"] and _sensor_hash(db_url) == meta2["dataset_hash"]


def test_vision_model_away_every_image_keeps_its_appearance_caption(mika, db_url):
    with OllamaDouble() as ollama:
        url = ollama.url  # served no more once the block ends: connections are refused
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("character", ["mika"])
        before = _sensor_hash(db_url)
        result = _materialize(instance, db_url, mika, url)
        meta = {k: v.value for k, v in result.asset_materializations_for_node("training_dataset")[0].metadata.items()}
    assert result.success and (meta["caption_fallbacks"], meta["vision_captions"]) == (3, 0)
    assert meta["dataset_hash"] == before  # exactly the preview captions
    assert query(db_url, "SELECT * FROM training_captions") == []
