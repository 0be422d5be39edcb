"""The demo's person: it decides the pending images of non-human characters, and says so.

The decisions go through studio.review.decisions, the same transaction a person's approval from the
review page makes (decided_by 'human', a review_feedback row, an image_decided event), with reviewer
DEMO_REVIEWER so nobody mistakes them for a real person's or for an automatic approval.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from studio.db.session import studio_connection
from studio.domain.review import ReviewResult
from studio.domain.stand_in_review import stand_in_verdict
from studio.review import decisions
from studio.review.queries import NON_HUMAN_SQL
from studio.settings import load_settings

DEMO_REVIEWER = "demo"
COMMENT = "decided by `studio demo` in place of a person"

PENDING_NON_HUMAN_SQL = f"""
SELECT c.slug, i.id, i.review
  FROM images i JOIN characters c ON c.id = i.character_id JOIN projects p ON p.id = c.project_id
 WHERE i.status = 'pending' AND {NON_HUMAN_SQL} AND p.slug = $1 ORDER BY c.slug, i.id
"""


async def _decide_pending(project: str) -> dict[str, dict[str, list[int]]]:
    """{character: {"approved": ids, "rejected": ids, "pending": ids}} of what was decided now."""
    outcome: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    async with studio_connection(load_settings()) as conn:
        rows = await conn.fetch(PENDING_NON_HUMAN_SQL, project)
        approve: list[int] = []
        reject: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for row in rows:
            verdict = stand_in_verdict(ReviewResult.model_validate(row["review"])) if row["review"] \
                else None
            if verdict is None or verdict.decision == "pending":
                outcome[row["slug"]]["pending"].append(row["id"])
            elif verdict.decision == "approved":
                approve.append(row["id"])
            else:
                reject[verdict.categories].append(row["id"])
        slug_of = {row["id"]: row["slug"] for row in rows}
        if approve:
            done = await decisions.decide_many(conn, "approve", approve, DEMO_REVIEWER, comment=COMMENT)
            for image_id in done.decided:
                outcome[slug_of[image_id]]["approved"].append(image_id)
        for categories, ids in reject.items():
            done = await decisions.decide_many(conn, "reject", ids, DEMO_REVIEWER, list(categories), COMMENT)
            for image_id in done.decided:
                outcome[slug_of[image_id]]["rejected"].append(image_id)
    return outcome


def review_as_person(project: str, indent: str = "  ") -> int:
    """Decide and print one line per non-human character of `project` (only the demo's own project:
    a person's real queue in the same home is left alone); returns how many images were decided."""
    outcome = asyncio.run(_decide_pending(project))
    if not outcome:
        print(f"{indent}demo reviewer: no non-human character has an image waiting for a person")
    decided = 0
    for slug, by_decision in sorted(outcome.items()):
        approved, rejected, left = (by_decision.get(k, []) for k in ("approved", "rejected", "pending"))
        decided += len(approved) + len(rejected)
        print(f"{indent}demo reviewer, acting as a person for non-human {slug} (never auto-approved): "
              f"approved {len(approved)}, rejected {len(rejected)}"
              + (f", left {len(left)} the reviewer could not judge" if left else "")
              + f"; recorded as human decisions by reviewer {DEMO_REVIEWER!r}")
    return decided
