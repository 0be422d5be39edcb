"""Storing an automatic review: the one write shared by the dataset batch and re-review.

The review JSON and score are always stored. The status changes only while the image is pending,
and then together with the `image_reviewed` event the sensors count: a person's decision is never
overruled. The row is locked first, so a person deciding at the same moment either finished before
(and is kept) or waits for this transaction.
"""

from __future__ import annotations

import contextlib

import asyncpg

from studio.domain.events import IMAGE_REVIEWED
from studio.domain.review import Decision, ReviewResult


async def record_automatic_review(conn: asyncpg.Connection, image_id: int, review: ReviewResult,
                                  decision: Decision) -> str | None:
    """Store `review` and, while the image is pending, `decision` and its event, in one transaction
    (the caller's, if it has one). Returns the status the image had, None when there is no such image."""
    # No savepoint inside a caller's transaction: it would cost two round trips per image, and no caller
    # goes on after a failed statement, so the whole transaction is rolled back anyway.
    async with contextlib.nullcontext() if conn.is_in_transaction() else conn.transaction():
        row = await conn.fetchrow("SELECT status, character_id FROM images WHERE id = $1 FOR UPDATE", image_id)
        if row is None:
            return None
        if row["status"] != "pending":
            await conn.execute("UPDATE images SET review = $2, quality_score = $3, updated_at = now() WHERE id = $1",
                               image_id, review.model_dump(mode="json"), review.quality_score)
            return row["status"]
        await conn.execute(
            """UPDATE images SET review = $2, quality_score = $3, status = $4, updated_at = now(),
                      decided_by = CASE WHEN $4 = 'pending' THEN NULL ELSE 'auto' END,
                      reviewed_at = CASE WHEN $4 = 'pending' THEN NULL ELSE now() END
                WHERE id = $1""",
            image_id, review.model_dump(mode="json"), review.quality_score, decision,
        )
        await conn.execute(
            "INSERT INTO studio_events (kind, character_id, image_id, payload) VALUES ($1, $2, $3, $4)",
            IMAGE_REVIEWED, row["character_id"], image_id, {"decision": decision, "score": review.quality_score},
        )
        return row["status"]
