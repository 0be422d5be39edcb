"""Adding an existing image to a character's dataset: checked, stored, registered as pending.

File and row stay consistent: the file is written first (under its content name), then the row is
inserted; if the insert fails the file this call created is removed again, so no orphan is left and
no row ever points at a missing file. A file that was already there is left alone.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import asyncpg

from studio.media_layout import dataset_images_folder
from studio.review.decisions import NotFound
from studio.uploads import CheckedImage, check_image, store_image


class DuplicateImage(Exception):
    def __init__(self, existing_id: int):
        self.existing_id = existing_id
        super().__init__(f"this image is already registered as image {existing_id}")


def _phash(data: bytes) -> int:
    # Imported here: Pillow, imagehash and numpy cost the review service ~65 ms at start-up for one route.
    from PIL import Image

    from studio.domain.dedup import phash_signed

    with Image.open(io.BytesIO(data)) as image:
        return phash_signed(image)


async def _existing_id(conn: asyncpg.Connection, sha256: str) -> int | None:
    return await conn.fetchval("SELECT id FROM images WHERE sha256 = $1", sha256)


def _dataset_folder(media_root: Path, slug: str) -> str:
    folder = dataset_images_folder(slug)
    root = media_root.resolve()
    if not (root / folder).resolve().is_relative_to(root):  # slugs come from specs; do not trust them blindly
        raise ValueError(f"character slug {slug!r} cannot name a folder")
    return folder


async def ingest_image(pool: asyncpg.Pool, character_slug: str, data: bytes, *, media_root: Path,
                       max_bytes: int) -> int:
    """Register `data` as a pending uploaded image of the character; returns the new image id.

    Raises NotFound (no such character), UploadRejected (not an acceptable image), DuplicateImage.
    """
    async with pool.acquire() as conn:
        character_id = await conn.fetchval("SELECT id FROM characters WHERE slug = $1", character_slug)
        if character_id is None:
            raise NotFound(f"character {character_slug!r} not found")
        checked: CheckedImage = await asyncio.to_thread(check_image, data, max_bytes=max_bytes)
        phash = await asyncio.to_thread(_phash, checked.data)
        folder = _dataset_folder(media_root, character_slug)
        target = media_root / folder / f"{checked.sha256[:20]}{checked.extension}"
        created_file = False
        try:
            async with conn.transaction():
                # Uploads of the same bytes take turns, so the loser sees the winner's row and never
                # deletes the file the winner registered.
                await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", checked.sha256)
                if (existing := await _existing_id(conn, checked.sha256)) is not None:
                    raise DuplicateImage(existing)
                created_file = not target.exists()
                relative = await asyncio.to_thread(store_image, checked, media_root, folder)
                return await conn.fetchval(
                    """INSERT INTO images (character_id, file_path, sha256, phash, width, height, backend, source)
                       VALUES ($1, $2, $3, $4, $5, $6, 'uploaded', 'uploaded') RETURNING id""",
                    character_id, relative, checked.sha256, phash, checked.width, checked.height,
                )
        except BaseException:
            # Also when the commit itself fails: no row points at the file, so it must go.
            if created_file:
                target.unlink(missing_ok=True)
            raise
