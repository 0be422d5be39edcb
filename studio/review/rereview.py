"""Running the automatic review of one image again (a new model, a fixed checklist, a flaky answer).

The new review JSON and score are always stored; the status changes only while the image is
pending, and then only by `studio.domain.review.decide` (see studio/review/automatic_decision.py):
a person deciding during a slow review still wins.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from studio.clients.ollama import OllamaClient
from studio.domain.appearance import Appearance
from studio.domain.review import ReviewResult, decide
from studio.review.automatic_decision import record_automatic_review
from studio.review.decisions import NotFound
from studio.review.media_files import resolve_media_path
from studio.review.vision_reviewer import review_image


class ImageUnreviewable(ValueError):
    """The image file is missing or cannot be read as an image."""


async def _run_reviewer(backend: str, data: bytes, row, ollama: OllamaClient) -> ReviewResult:
    appearance = Appearance.model_validate(row["appearance_data"])
    if backend == "preview":
        # numpy comes with the preview reviewer: the review service imports it only when it is used.
        from studio.preview.heuristic_reviewer import review_preview_image

        try:
            return await asyncio.to_thread(review_preview_image, data, appearance)
        except ValueError as exc:
            raise ImageUnreviewable(f"image {row['id']} cannot be reviewed: {exc}") from None
    return await review_image(ollama, data, character_name=row["name"],
                              design_prompt=row["design_prompt"], appearance=appearance)


async def rereview(pool, image_id: int, *, media_root: Path, backend: str,
                   ollama: OllamaClient) -> ReviewResult:
    row = await pool.fetchrow(
        """SELECT i.id, i.file_path, i.character_id, c.name, c.design_prompt, c.appearance_data
             FROM images i JOIN characters c ON c.id = i.character_id WHERE i.id = $1""",
        image_id,
    )
    if row is None:
        raise NotFound(f"image {image_id} not found")
    path = resolve_media_path(media_root, row["file_path"])
    if path is None:
        raise ImageUnreviewable(f"image {image_id} has no readable file under the media root")
    data = await asyncio.to_thread(path.read_bytes)
    # No transaction is held open while the (possibly minutes-long) vision model answers.
    result = await _run_reviewer(backend, data, row, ollama)
    is_human = Appearance.model_validate(row["appearance_data"]).is_human
    decision = decide(result, is_human=is_human)
    async with pool.acquire() as conn:
        if await record_automatic_review(conn, image_id, result, decision) is None:
            raise NotFound(f"image {image_id} not found")
    return result
