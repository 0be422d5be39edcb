"""Reference images of a character: checked bytes stored under references/<slug>, listed in
characters.reference_images. A refused or failed upload leaves neither a file nor a list entry."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from studio.story.errors import Conflict, NotFound
from studio.story.sql import catalog_changed, locked_row
from studio.uploads import CheckedImage, store_image


def _names_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


async def add_reference(conn: asyncpg.Connection, slug: str, image: CheckedImage, media_root: Path) -> dict:
    """The file is written only once the character row is locked, and removed again if the row
    update does not commit; a file that was already there (same content) is left alone."""
    folder = f"references/{slug}"
    created: Path | None = None
    try:
        async with conn.transaction():
            row = await locked_row(conn, "characters", slug)
            before = _names_in(media_root / folder)
            relative = store_image(image, media_root, folder)
            if Path(relative).name not in before:
                created = media_root / relative
            references = list(row["reference_images"])
            if relative in references:
                raise Conflict(f"this image is already reference {references.index(relative)} of {slug!r}")
            references.append(relative)
            await conn.execute(
                "UPDATE characters SET reference_images = $2, updated_at = now() WHERE id = $1",
                row["id"], references,
            )
            await catalog_changed(conn, "characters", slug, "updated")
    except BaseException:
        if created is not None:
            created.unlink(missing_ok=True)
        raise
    return {"index": len(references) - 1, "path": relative, "reference_images": references}


async def remove_reference(conn: asyncpg.Connection, slug: str, index: int) -> list[str]:
    """The file stays: names are content hashes, and a dataset or LoRA manifest may still cite it."""
    async with conn.transaction():
        row = await locked_row(conn, "characters", slug)
        references = list(row["reference_images"])
        if not 0 <= index < len(references):
            raise NotFound(f"character {slug!r} has no reference image {index} ({len(references)} in all)")
        del references[index]
        await conn.execute(
            "UPDATE characters SET reference_images = $2, updated_at = now() WHERE id = $1", row["id"], references
        )
        await catalog_changed(conn, "characters", slug, "updated")
    return references
