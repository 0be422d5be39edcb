"""The training dataset of one character, laid out as kohya reads it:

    media/training/<slug>/<snapshot>/img/<image id>.png   the approved image (bytes checked)
    media/training/<slug>/<snapshot>/img/<image id>.txt   its caption
    media/training/<slug>/<snapshot>/dataset.toml         the --dataset_config

`<snapshot>` is the start of the content hash of (image ids, image bytes, captions). The folder is
built under a temporary name and renamed into place, so kohya never sees half a dataset, and a
snapshot that exists already is reused as it is.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from studio.datasets.models import CharacterContext
from studio.datasets.repository import load_character
from studio.domain.base_model import Architecture, base_architecture
from studio.domain.captions import build_caption, class_token, trigger_word
from studio.domain.readiness import dataset_readiness
from studio.domain.lora_training import SnapshotEntry, num_repeats, snapshot_hash
from studio.domain.review import ChecklistItem
from studio.training import repository
from studio.training.dataset_toml import DatasetConfig, dataset_toml
from studio.training.kohya_command import RESOLUTIONS, caches_text_encoder_outputs
from studio.uploads import write_atomically


class DatasetProblem(ValueError):
    """The dataset cannot be trained on (no approved image, a file that changed on disk)."""


@dataclass(frozen=True)
class TrainingImage:
    image_id: int
    file_path: str  # relative to the media root
    sha256: str
    caption: str
    vision_caption: bool = False  # the caption is the vision model's, kept in training_captions


@dataclass(frozen=True)
class DatasetSnapshot:
    character: str
    hash: str
    directory: Path
    image_ids: list[int]
    num_repeats: int
    trigger: str
    class_tokens: str

    @property
    def toml_path(self) -> Path:
        return self.directory / "dataset.toml"

    @property
    def image_dir(self) -> Path:
        return self.directory / "img"


def caption_for(character: CharacterContext, review: dict | None) -> str:
    review = review or {}
    checklist = [ChecklistItem(**item) for item in review.get("checklist") or []]
    return build_caption(trigger_word(character.slug), character.appearance, checklist, solo=review.get("solo"))


def training_images(character: CharacterContext, rows: list[dict]) -> list[TrainingImage]:
    """rows: approved images with id, file_path, sha256, review and the vision model's stored caption."""
    return [TrainingImage(r["id"], r["file_path"], r["sha256"],
                          r.get("vision_caption") or caption_for(character, r["review"]),
                          vision_caption=bool(r.get("vision_caption"))) for r in rows]


def dataset_hash(images: list[TrainingImage]) -> str:
    return snapshot_hash([SnapshotEntry(i.image_id, i.sha256, i.caption) for i in images])


def write_snapshot(media_root: Path, character: CharacterContext, images: list[TrainingImage],
                   architecture: Architecture) -> DatasetSnapshot:
    if not images:
        raise DatasetProblem(f"character {character.slug!r} has no approved image to train on")
    digest = dataset_hash(images)
    root = media_root / "training" / character.slug
    final = root / digest[:16]
    snapshot = DatasetSnapshot(
        character=character.slug, hash=digest, directory=final, image_ids=sorted(i.image_id for i in images),
        num_repeats=num_repeats(len(images)), trigger=trigger_word(character.slug),
        class_tokens=class_token(character.appearance),
    )
    toml = dataset_toml(DatasetConfig(image_dir=final / "img", num_repeats=snapshot.num_repeats,
                                      class_tokens=snapshot.class_tokens, resolution=RESOLUTIONS[architecture],
                                      shuffle_caption=not caches_text_encoder_outputs(architecture)))
    if (final / "dataset.toml").is_file():
        # Same images and captions; a TOML written by an older rule (e.g. shuffled SDXL captions) is replaced.
        if (final / "dataset.toml").read_text(encoding="utf-8") != toml:
            write_atomically(final / "dataset.toml", toml.encode())
        return snapshot
    temp = root / f".tmp-{digest[:16]}-{uuid.uuid4().hex[:8]}"
    try:
        (temp / "img").mkdir(parents=True)
        for image in images:
            data = (media_root / image.file_path).read_bytes()
            if hashlib.sha256(data).hexdigest() != image.sha256:
                raise DatasetProblem(f"image {image.image_id} ({image.file_path}) changed on disk since it was approved")
            suffix = Path(image.file_path).suffix or ".png"
            (temp / "img" / f"{image.image_id}{suffix}").write_bytes(data)
            (temp / "img" / f"{image.image_id}.txt").write_text(image.caption + "\n", encoding="utf-8")
        (temp / "dataset.toml").write_text(toml, encoding="utf-8")
        try:
            os.rename(temp, final)
        except OSError:
            if not (final / "dataset.toml").is_file():  # not another writer of the same snapshot
                raise
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return snapshot


async def snapshot_inputs(conn, character: CharacterContext, image_ids: list[int] | None = None):
    """What a snapshot of this character would hold now, from the database alone: its images with
    captions, and the architecture they are trained for. The sensor compares its hash with the last
    checkpoint's; the asset writes it."""
    rows = await repository.approved_rows(conn, character.id, image_ids)
    architecture = base_architecture(character.style.checkpoint,
                                     await repository.base_architecture_of(conn, character.id))
    return training_images(character, rows), architecture


async def trainings_due(conn) -> list[tuple[str, str]]:
    """(slug, snapshot hash) of each character whose dataset reached its target and whose snapshot
    differs from the one its last checkpoint was trained on, in slug order."""
    due = []
    for slug in [r["slug"] for r in await conn.fetch("SELECT slug FROM characters ORDER BY slug")]:
        try:
            character = await load_character(conn, slug)
        except ValueError:  # no generation style: nothing to train for
            continue
        images, _ = await snapshot_inputs(conn, character)
        if not images or not dataset_readiness(len(images), character.target_images).ready:
            continue
        digest = dataset_hash(images)
        if digest != await repository.latest_dataset_hash(conn, character.id):
            due.append((slug, digest))
    return due
