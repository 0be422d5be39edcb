"""Test set-up for training: the example project with a few approved images of one character."""

from __future__ import annotations

import asyncio
import hashlib
import sys
from pathlib import Path

import dagster as dg
from PIL import Image

from anime_assets.training import lora_checkpoints, training_dataset
from resources.database import StudioDatabase
from resources.image_generation import PreviewImageGeneratorResource
from resources.image_review import PreviewImageReviewerResource
from resources.lora_trainer import LoraTrainerResource
from resources.studio_config import StudioConfig
from studio.cli import main as studio
from studio.db.pool import connect
from tests.conftest import EXAMPLE_SPEC

FAKE_KOHYA = Path(__file__).with_name("doubles") / "fake_kohya.py"


def query(db_url, sql, *args):
    async def _go():
        async with connect(db_url) as conn:
            return [dict(r) for r in await conn.fetch(sql, *args)]

    return asyncio.run(_go())


def import_example(home: Path) -> None:
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0


def ready_to_train(db_url, home: Path, slug: str = "mika", images: int = 3) -> Path:
    """The example imported (with the current environment's database) and `slug` at its target of
    `images` approved images: a character the training sensor would train."""
    import_example(home)
    query(db_url, "UPDATE characters SET target_images = $2 WHERE slug = $1", slug, images)
    add_approved(db_url, home, slug, images)
    return home


def add_approved(db_url, home: Path, slug: str, count: int, start: int = 0) -> list[int]:
    """Approved images as the review leaves them: a file under the media root and its row."""
    ids = []
    for i in range(start, start + count):
        picture = Image.new("RGB", (64, 96), (30 + 20 * i, 60, 200 - 10 * i))
        relative = f"datasets/{slug}/images/test_{i}.png"
        path = home / "media" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        picture.save(path)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        review = {"quality_score": 0.9, "solo": True, "backend": "preview",
                  "checklist": [{"item": "has freckles", "passed": i % 2 == 0}]}
        [row] = query(db_url, "INSERT INTO images (character_id, file_path, sha256, phash, status, review, decided_by) "
                              "SELECT id, $2, $3, $4, 'approved', $5, 'human' FROM characters WHERE slug = $1 RETURNING id",
                      slug, relative, sha, i, review)
        ids.append(row["id"])
    return ids


def live_trainer(tmp_path: Path) -> LoraTrainerResource:
    """kohya's place taken by the fake: an `accelerate` executable and a base checkpoint file."""
    accelerate = tmp_path / "bin" / "accelerate"
    accelerate.parent.mkdir(parents=True, exist_ok=True)
    accelerate.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_KOHYA}" "$@"\n')
    accelerate.chmod(0o755)
    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir(exist_ok=True)
    (checkpoints / "animagine-xl-3.1.safetensors").write_bytes(b"base")
    return LoraTrainerResource(backend="live", rank=4, epochs=2, checkpoint_dir=str(checkpoints),
                               sd_scripts_dir=str(tmp_path / "sd-scripts"), accelerate=str(accelerate),
                               sample_count=2)


def resources(db_url, home: Path, trainer: LoraTrainerResource | None = None) -> dict:
    return {
        "database": StudioDatabase(url=db_url),
        "studio": StudioConfig(backend="preview", home=str(home)),
        "lora_trainer": trainer or LoraTrainerResource(backend="preview", rank=2, epochs=2, sample_count=2),
        "pipes_subprocess_client": dg.PipesSubprocessClient(),
        "image_generator": PreviewImageGeneratorResource(max_side=128),
        "image_reviewer": PreviewImageReviewerResource(),
    }


def train(instance, db_url, home, slug="mika", trainer=None, assets=None, **kw):
    if slug not in instance.get_dynamic_partitions("character"):
        instance.add_dynamic_partitions("character", [slug])
    return dg.materialize(assets or [training_dataset, lora_checkpoints], partition_key=slug, instance=instance,
                          resources=resources(db_url, home, trainer), **kw)
