"""1,000 concurrent decisions over HTTP on 200 pending images: the first decision per image wins.

Five decisions (approve and reject mixed) race for every image from 50 concurrent clients; exactly
one per image may succeed, the other four must be 409s, and the database must hold exactly one
feedback row and one event per image.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import httpx

from tests.review_seed import seed_character, seed_image, seed_project, served_review_app

IMAGES = 200
DECISIONS_PER_IMAGE = 5
CLIENTS = 50


async def test_each_image_is_decided_exactly_once(db, db_url, tmp_path):
    project = await seed_project(db)
    characters = [await seed_character(db, project, slug) for slug in ("mika", "ryu", "sora", "kai")]
    image_ids = [await seed_image(db, None, characters[n % 4], n) for n in range(IMAGES)]

    rng = random.Random(7)
    work = [(image_id, rng.choice(("approve", "reject"))) for image_id in image_ids
            for _ in range(DECISIONS_PER_IMAGE)]
    rng.shuffle(work)
    queue: asyncio.Queue = asyncio.Queue()
    for item in work:
        queue.put_nowait(item)
    answers: list[tuple[int, str, int, dict]] = []

    async def client(base_url: str) -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as api:
            while not queue.empty():
                image_id, action = queue.get_nowait()
                body = {"categories": ["blurry"], "comment": "race"} if action == "reject" else {}
                response = await api.post(f"/api/images/{image_id}/{action}", json=body)
                answers.append((image_id, action, response.status_code, response.json()))

    with served_review_app(db_url, tmp_path / "home") as base_url:
        await asyncio.gather(*(client(base_url) for _ in range(CLIENTS)))

    statuses = Counter(status for _, _, status, _ in answers)
    assert statuses == {200: IMAGES, 409: IMAGES * (DECISIONS_PER_IMAGE - 1)}
    winners = {image_id: action for image_id, action, status, _ in answers if status == 200}
    assert sorted(winners) == sorted(image_ids)
    for image_id, _, status, body in answers:
        if status == 409:
            expected = "approved" if winners[image_id] == "approve" else "rejected"
            assert body["detail"] == f"image {image_id} was already {expected} by local"

    rows = await db.fetch("SELECT id, status, decided_by FROM images")
    assert all(r["decided_by"] == "human" for r in rows)
    assert {r["id"]: r["status"] for r in rows} == {
        i: "approved" if a == "approve" else "rejected" for i, a in winners.items()}
    feedback = await db.fetch("SELECT image_id, decision FROM review_feedback")
    assert len(feedback) == IMAGES and len({f["image_id"] for f in feedback}) == IMAGES
    assert all(f["decision"] == ("approved" if winners[f["image_id"]] == "approve" else "rejected")
               for f in feedback)
    events = await db.fetch("SELECT image_id FROM studio_events WHERE kind = 'image_decided'")
    assert len(events) == IMAGES and {e["image_id"] for e in events} == set(image_ids)
