"""An automatic review is stored on every image, but decides only a pending one, with its event."""

import asyncio

from studio.db.pool import connect
from studio.domain.events import IMAGE_REVIEWED
from studio.domain.review import ReviewResult
from studio.review.automatic_decision import record_automatic_review
from tests.review_seed import seed_character, seed_image, seed_project

REVIEW = ReviewResult(quality_score=0.91, solo=True, backend="preview", reason="clean")


async def _image(conn, image_id):
    return await conn.fetchrow("SELECT status, decided_by, reviewed_at, quality_score, review->>'reason' AS reason "
                               "FROM images WHERE id = $1", image_id)


async def _events(conn, image_id):
    return await conn.fetch("SELECT payload FROM studio_events WHERE kind = $1 AND image_id = $2",
                            IMAGE_REVIEWED, image_id)


async def test_a_pending_image_takes_the_decision_and_its_event(db):
    character = await seed_character(db, await seed_project(db), "mika")
    image = await seed_image(db, None, character, 1)
    assert await record_automatic_review(db, image, REVIEW, "approved") == "pending"
    row = await _image(db, image)
    assert (row["status"], row["decided_by"], row["reason"]) == ("approved", "auto", "clean")
    assert row["reviewed_at"] is not None and abs(row["quality_score"] - 0.91) < 1e-6
    assert [e["payload"] for e in await _events(db, image)] == [{"decision": "approved", "score": 0.91}]


async def test_left_pending_the_image_stays_undecided_but_counted(db):
    character = await seed_character(db, await seed_project(db), "mika")
    image = await seed_image(db, None, character, 1)
    assert await record_automatic_review(db, image, REVIEW, "pending") == "pending"
    row = await _image(db, image)
    assert (row["status"], row["decided_by"], row["reviewed_at"], row["reason"]) == ("pending", None, None, "clean")
    assert len(await _events(db, image)) == 1


async def test_a_decided_image_keeps_its_decision_and_gets_no_event(db):
    character = await seed_character(db, await seed_project(db), "mika")
    image = await seed_image(db, None, character, 1, status="rejected")
    await db.execute("UPDATE images SET decided_by = 'human', reviewed_at = now() - interval '1 day' WHERE id = $1",
                     image)
    before = await _image(db, image)
    assert await record_automatic_review(db, image, REVIEW, "approved") == "rejected"
    after = await _image(db, image)
    assert (after["status"], after["decided_by"], after["reviewed_at"]) == ("rejected", "human", before["reviewed_at"])
    assert after["reason"] == "clean" and await _events(db, image) == []


async def test_an_unknown_image_is_none(db):
    assert await record_automatic_review(db, 2**62, REVIEW, "approved") is None


async def test_a_person_deciding_at_the_same_moment_is_never_overruled(db, db_url):
    """The person's transaction holds the row: the automatic review waits, then sees the decision."""
    character = await seed_character(db, await seed_project(db), "mika")
    image = await seed_image(db, None, character, 1)
    async with connect(db_url) as person:
        async with person.transaction():
            await person.execute("UPDATE images SET status = 'rejected', decided_by = 'human' WHERE id = $1", image)
            automatic = asyncio.create_task(record_automatic_review(db, image, REVIEW, "approved"))
            await asyncio.sleep(0.3)
            assert not automatic.done(), "the automatic review must wait for the row"
    assert await automatic == "rejected"
    row = await _image(db, image)
    assert (row["status"], row["decided_by"]) == ("rejected", "human") and await _events(db, image) == []
