"""A person's decisions on generated images: approve, reject (with reasons), reassign, in bulk.

Every decision is one statement of three writes: the image row, a `review_feedback` row (what the
next generation learns from) and an `image_decided` event (what the sensors react to).
The image update is conditional on `status = 'pending'`: of two concurrent decisions the second
waits for the first's row lock, then finds the row no longer pending and changes nothing, so the
first decision wins and the second is told who made it.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import AsyncIterator, Literal

import asyncpg

from studio.domain.events import IMAGE_DECIDED
from studio.domain.feedback_rules import check_rejection_categories

HumanDecision = Literal["approved", "rejected"]
MAX_BULK = 500


class NotFound(LookupError):
    """The image (or the character it should move to) does not exist."""


class AlreadyDecided(Exception):
    def __init__(self, image_id: int, status: str, decided_by: str | None, reviewer: str | None):
        self.image_id, self.status = image_id, status
        who = reviewer if decided_by == "human" and reviewer else "the automatic review"
        super().__init__(f"image {image_id} was already {status} by {who}")


class InvalidDecision(ValueError):
    """The request itself is wrong (unknown category, no reason)."""


class ImpossibleReassignment(InvalidDecision):
    """A well-formed reassignment that the stored data rules out: the image already belongs to that
    character, or the character is in another project."""


@dataclass
class BulkOutcome:
    decided: list[int] = field(default_factory=list)
    conflicts: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)


@asynccontextmanager
async def _connection(conn_or_pool) -> AsyncIterator[asyncpg.Connection]:
    if isinstance(conn_or_pool, asyncpg.Pool):
        async with conn_or_pool.acquire() as conn:
            yield conn
    else:
        yield conn_or_pool


def rejection_categories(categories: list[str] | tuple[str, ...]) -> list[str]:
    """Validated, de-duplicated (first occurrence kept) rejection reasons; at least one."""
    try:
        check_rejection_categories(categories)
    except ValueError as exc:
        raise InvalidDecision(str(exc)) from None
    if not categories:
        raise InvalidDecision("a rejection needs at least one category")
    return list(dict.fromkeys(categories))


# The three writes of a decision in one statement: it is atomic on its own (no BEGIN/COMMIT round
# trips around it) and one round trip instead of three, which is most of what an approval costs.
# Rows are locked in id order so two overlapping bulk decisions cannot deadlock.
DECIDE_SQL = """
WITH locked AS (
    SELECT id FROM images WHERE id = ANY($1::bigint[]) AND status = 'pending' ORDER BY id FOR UPDATE
), decided AS (
    UPDATE images i
       SET status = $2, decided_by = 'human', reviewer = $3, reviewed_at = now(), updated_at = now()
      FROM locked
     WHERE i.id = locked.id AND i.status = 'pending'
 RETURNING i.id, i.character_id
), feedback AS (
    INSERT INTO review_feedback (image_id, character_id, decision, categories, comment, reviewer)
    SELECT id, character_id, $2, $4, $5, $3 FROM decided
), events AS (
    INSERT INTO studio_events (kind, character_id, image_id, payload)
    SELECT $7::text, character_id, id, $6 FROM decided
)
SELECT id FROM decided ORDER BY id
"""


async def _decide(conn: asyncpg.Connection, image_ids: list[int], decision: HumanDecision, reviewer: str,
                  categories: list[str], comment: str, extra_payload: dict | None = None) -> list[int]:
    """Decide those of `image_ids` still pending; returns their ids."""
    payload = {"decision": decision, "categories": categories, **(extra_payload or {})}
    rows = await conn.fetch(DECIDE_SQL, image_ids, decision, reviewer, categories, comment, payload, IMAGE_DECIDED)
    return [r["id"] for r in rows]


async def _why_not_decided(conn: asyncpg.Connection, image_id: int) -> Exception:
    row = await conn.fetchrow("SELECT status, decided_by, reviewer FROM images WHERE id = $1", image_id)
    if row is None:
        return NotFound(f"image {image_id} not found")
    return AlreadyDecided(image_id, row["status"], row["decided_by"], row["reviewer"])


async def _decide_one(conn_or_pool, image_id: int, decision: HumanDecision, reviewer: str,
                      categories: list[str], comment: str) -> None:
    async with _connection(conn_or_pool) as conn:
        decided = await _decide(conn, [image_id], decision, reviewer, categories, comment)
        if not decided:
            raise await _why_not_decided(conn, image_id)


async def approve(conn, image_id: int, reviewer: str) -> None:
    await _decide_one(conn, image_id, "approved", reviewer, [], "")


async def reject(conn, image_id: int, reviewer: str, categories: list[str], comment: str = "") -> None:
    await _decide_one(conn, image_id, "rejected", reviewer, rejection_categories(categories), comment)


async def reassign(conn_or_pool, image_id: int, character_slug: str, reviewer: str) -> None:
    """The image shows another character of the same project: it joins that character's dataset,
    approved (a person looked at it and named who it is). The event carries both characters."""
    async with _connection(conn_or_pool) as conn:
        async with conn.transaction():
            target = await conn.fetchrow("SELECT id, project_id FROM characters WHERE slug = $1", character_slug)
            if target is None:
                raise NotFound(f"character {character_slug!r} not found")
            source = await conn.fetchrow(
                """SELECT c.id, c.slug, c.project_id FROM images i JOIN characters c ON c.id = i.character_id
                    WHERE i.id = $1 AND i.status = 'pending' FOR UPDATE OF i""",
                image_id,
            )
            if source is not None:
                if source["id"] == target["id"]:
                    raise ImpossibleReassignment(f"image {image_id} already belongs to {character_slug!r}")
                if source["project_id"] != target["project_id"]:
                    raise ImpossibleReassignment(f"character {character_slug!r} is in another project")
                await conn.execute("UPDATE images SET character_id = $2 WHERE id = $1", image_id, target["id"])
                comment = f"reassigned from {source['slug']}"
                decided = await _decide(conn, [image_id], "approved", reviewer, [], comment,
                                        {"reassigned_from": source["slug"], "reassigned_from_id": source["id"]})
                if decided:
                    return
        raise await _why_not_decided(conn, image_id)


async def decide_many(conn_or_pool, action: Literal["approve", "reject"], image_ids: list[int], reviewer: str,
                      categories: list[str] | None = None, comment: str = "") -> BulkOutcome:
    """One statement for the whole batch; images decided meanwhile are conflicts, not failures."""
    if len(image_ids) > MAX_BULK:
        raise InvalidDecision(f"at most {MAX_BULK} images per bulk decision, got {len(image_ids)}")
    if action == "reject":
        decision, categories = "rejected", rejection_categories(categories or [])
    else:
        decision, categories = "approved", []
    wanted = list(dict.fromkeys(image_ids))
    async with _connection(conn_or_pool) as conn:
        decided = set(await _decide(conn, wanted, decision, reviewer, categories, comment))
        rest = [i for i in wanted if i not in decided]
        existing = {r["id"] for r in await conn.fetch("SELECT id FROM images WHERE id = ANY($1::bigint[])", rest)}
    return BulkOutcome(decided=[i for i in wanted if i in decided],
                       conflicts=[i for i in rest if i in existing],
                       missing=[i for i in rest if i not in existing])


async def feedback_counts(conn_or_pool, character_id: int) -> dict[str, int]:
    """How often each rejection category was given for a character: the next batch's learned negatives."""
    async with _connection(conn_or_pool) as conn:
        rows = await conn.fetch(
            """SELECT category, count(*) AS n
                 FROM review_feedback, unnest(categories) AS category
                WHERE character_id = $1 AND decision = 'rejected'
                GROUP BY category ORDER BY category""",
            character_id,
        )
    return {r["category"]: r["n"] for r in rows}
