"""Storing an automatic review: the one write shared by the dataset batch and re-review.

The review JSON and score are always stored. The status changes only while the image is pending,
and then together with the `image_reviewed` event the sensors count: a person's decision is never
overruled. The row is locked first, so a person deciding at the same moment either finished before
(and is kept) or waits for this statement.
"""

from __future__ import annotations

import asyncpg

from studio.domain.events import IMAGE_REVIEWED
from studio.domain.review import Decision, ReviewResult

# One statement, atomic on its own: the batch stores every image's review with it, and three
# statements cost two more round trips per image (and two more in a transaction of the caller's).
# `prior` is the status the locked row had: the decision and its event apply only when it was pending.
RECORD_SQL = """
WITH locked AS (
    SELECT id, status AS prior FROM images WHERE id = $1 FOR UPDATE
), stored AS (
    UPDATE images i
       SET review = $2, quality_score = $3, updated_at = now(),
           status = CASE WHEN locked.prior = 'pending' THEN $4 ELSE i.status END,
           decided_by = CASE WHEN locked.prior <> 'pending' THEN i.decided_by
                             WHEN $4 = 'pending' THEN NULL ELSE 'auto' END,
           reviewed_at = CASE WHEN locked.prior <> 'pending' THEN i.reviewed_at
                              WHEN $4 = 'pending' THEN NULL ELSE now() END
      FROM locked
     WHERE i.id = locked.id
 RETURNING locked.prior, i.character_id
), event AS (
    INSERT INTO studio_events (kind, character_id, image_id, payload)
    SELECT $5::text, character_id, $1, $6 FROM stored WHERE prior = 'pending'
)
SELECT prior FROM stored
"""


async def record_automatic_review(conn: asyncpg.Connection, image_id: int, review: ReviewResult,
                                  decision: Decision) -> str | None:
    """Store `review` and, while the image is pending, `decision` and its event (in the caller's
    transaction, if it has one). Returns the status the image had, None when there is no such image."""
    return await conn.fetchval(RECORD_SQL, image_id, review.model_dump(mode="json"), review.quality_score,
                               decision, IMAGE_REVIEWED, {"decision": decision, "score": review.quality_score})
