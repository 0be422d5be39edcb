"""The review routes on the real app (uvicorn on 127.0.0.1), a real PostgreSQL and real image files."""

from __future__ import annotations

import io
import os
from types import SimpleNamespace

import httpx
import pytest
from PIL import Image

from api.schemas.review import ImageOut, PendingPage
from studio.domain.dedup import phash_signed
from studio.review.decisions import feedback_counts
from studio.settings import settings_for
from tests.doubles.ollama import OllamaDouble
from tests.review_seed import DRAGON, HUMAN, png_bytes, seed_character, seed_image, seed_project, served_review_app



def messages(response: httpx.Response) -> str:
    """The messages of a 422 (one shape: a list of {type, loc, msg}), joined."""
    assert response.status_code == 422, response.text
    return "; ".join(error["msg"] for error in response.json()["detail"])

@pytest.fixture
async def world(db, tmp_path):
    """Project "harbor": mika (human, 5 pending, 1 approved, 1 rejected) and ryu (dragon, 3 pending)."""
    home = tmp_path / "home"
    media = home / "media"
    project = await seed_project(db)
    other_project = await seed_project(db, "elsewhere")
    mika = await seed_character(db, project, "mika", HUMAN, target=10)
    ryu = await seed_character(db, project, "ryu", DRAGON, target=5)
    stranger = await seed_character(db, other_project, "stranger", HUMAN)
    mika_pending = [await seed_image(db, media, mika, n, score=0.2 * (n % 5)) for n in range(1, 6)]
    approved = await seed_image(db, media, mika, 6, status="approved", score=0.9)
    rejected = await seed_image(db, media, mika, 7, status="rejected", score=0.1)
    ryu_pending = [await seed_image(db, media, ryu, n, score=0.7) for n in range(8, 11)]
    return SimpleNamespace(db=db, home=home, media=media, mika=mika, ryu=ryu, stranger=stranger,
                           mika_pending=mika_pending, ryu_pending=ryu_pending, approved=approved, rejected=rejected)


@pytest.fixture
async def api(world, db_url):
    with served_review_app(db_url, world.home) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            yield client


async def _pages(api: httpx.AsyncClient, **params) -> list[list[dict]]:
    pages, after = [], None
    while True:
        response = await api.get("/api/review/pending", params={**params, **({"after": after} if after else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        if not (after := body["next"]):
            return pages


# ---- queue --------------------------------------------------------------------------------------

async def test_pending_items_carry_review_species_and_urls(api, world):
    body = (await api.get("/api/review/pending", params={"character": "ryu"})).json()
    assert body["next"] is None
    item = body["items"][0]
    assert item["id"] == world.ryu_pending[0]
    assert item["character"] == "ryu" and item["character_name"] == "Ryu" and item["project"] == "harbor"
    assert item["status"] == "pending" and item["quality_score"] == pytest.approx(0.7)
    assert item["species"] == DRAGON["species"] and item["non_human"] is True
    assert item["review"]["checklist"] == [{"item": "hair colour #2b1d4e", "passed": True}]
    assert item["review"]["backend"] == "preview" and item["review"]["error"] is None
    assert item["prompt"] == "a prompt" and item["seed"] == 8 and item["created_at"]
    assert item["image_url"] == f"/api/images/{item['id']}/file"
    assert item["thumb_url"] == f"/api/images/{item['id']}/thumb"


async def test_image_json_rendered_by_postgres_matches_the_documented_schema(api, world):
    """The image routes skip response validation (PostgreSQL renders the JSON): hold them to ImageOut."""
    page = (await api.get("/api/review/pending", params={"limit": 2})).json()
    PendingPage.model_validate(page)
    decided = (await api.post(f"/api/images/{world.mika_pending[0]}/approve", json={})).json()
    for item in [*page["items"], decided]:
        assert set(item) == set(ImageOut.model_fields), "rendered keys differ from the schema"
        image = ImageOut.model_validate(item)
        assert image.created_at.utcoffset() is not None  # an instant, not a wall-clock time
    assert decided["status"] == "approved" and decided["reviewer"] and decided["decided_by"] == "human"


async def test_keyset_pages_cover_the_queue_once_in_id_order(api, world):
    pages = await _pages(api, limit=2)
    ids = [item["id"] for page in pages for item in page]
    assert ids == sorted(world.mika_pending + world.ryu_pending)
    assert [len(p) for p in pages] == [2, 2, 2, 2]
    # A decision made while paging does not shift the next page (keyset, not OFFSET).
    first = (await api.get("/api/review/pending", params={"limit": 3})).json()
    await api.post(f"/api/images/{first['items'][0]['id']}/approve", json={})
    second = (await api.get("/api/review/pending", params={"limit": 3, "after": first["next"]})).json()
    assert [i["id"] for i in second["items"]] == ids[3:6]


async def test_queue_filters(api, world):
    async def ids(**params) -> list[int]:
        return [i["id"] for page in await _pages(api, **params) for i in page]

    assert await ids(character="mika") == world.mika_pending
    assert await ids(non_human="true") == world.ryu_pending
    assert await ids(non_human="false") == world.mika_pending
    assert await ids(project="elsewhere") == []
    assert await ids(project="harbor", min_score=0.5, max_score=0.7) == [world.mika_pending[2]] + world.ryu_pending
    assert await ids(status="approved") == [world.approved]
    assert await ids(status="rejected", character="mika") == [world.rejected]


async def test_queue_refuses_bad_parameters(api):
    for params in ({"after": "not-a-cursor"}, {"status": "maybe"}, {"limit": 0}, {"limit": 201},
                   {"min_score": 1.5}):
        response = await api.get("/api/review/pending", params=params)
        assert response.status_code == 422, params
    assert "invalid cursor" in messages(await api.get("/api/review/pending", params={"after": "eHl6"}))


async def test_counts_per_character(api, world):
    response = await api.get("/api/review/counts", params={"project": "harbor"})
    assert response.json() == [
        {"character": "mika", "name": "Mika", "approved": 1, "pending": 5, "rejected": 1, "target": 10},
        {"character": "ryu", "name": "Ryu", "approved": 0, "pending": 3, "rejected": 0, "target": 5},
    ]
    assert [c["character"] for c in (await api.get("/api/review/counts")).json()] == ["stranger", "mika", "ryu"]
    missing = await api.get("/api/review/counts", params={"project": "nowhere"})
    assert missing.status_code == 404 and "nowhere" in missing.json()["detail"]


# ---- files and thumbnails -----------------------------------------------------------------------

async def test_file_is_served_from_the_media_root(api, world):
    response = await api.get(f"/api/images/{world.ryu_pending[0]}/file")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == png_bytes(8)
    assert (await api.get("/api/images/999999/file")).status_code == 404


async def test_paths_outside_the_media_root_are_refused(api, world, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(png_bytes(99))
    (world.media / "datasets").mkdir(parents=True, exist_ok=True)
    (world.media / "datasets" / "link.png").symlink_to(secret)
    planted = ["../secret.png", "datasets/../../secret.png", str(secret), "datasets/link.png", "/etc/passwd"]
    for n, path in enumerate(planted):
        image_id = await seed_image(world.db, None, world.mika, 100 + n, file_path=path)
        for route in ("file", "thumb"):
            response = await api.get(f"/api/images/{image_id}/{route}")
            assert response.status_code == 404, (path, route)
            assert response.json() == {"detail": f"no file for image {image_id}"}
    assert not (world.media / "thumbs").exists()


async def test_thumbnails_are_made_once_and_cached_on_disk(api, world):
    image_id = world.mika_pending[0]
    first = await api.get(f"/api/images/{image_id}/thumb", params={"size": 64})
    assert first.status_code == 200 and first.headers["content-type"] == "image/webp"
    assert first.headers["x-thumbnail-cache"] == "miss"
    with Image.open(io.BytesIO(first.content)) as thumb:
        assert max(thumb.size) == 64
    cached = list((world.media / "thumbs" / "64").iterdir())
    assert len(cached) == 1 and cached[0].read_bytes() == first.content
    mtime = cached[0].stat().st_mtime_ns
    second = await api.get(f"/api/images/{image_id}/thumb", params={"size": 64})
    assert second.headers["x-thumbnail-cache"] == "hit" and second.content == first.content
    assert cached[0].stat().st_mtime_ns == mtime
    default = await api.get(f"/api/images/{image_id}/thumb")  # 256 is larger than the 96 px source
    assert default.status_code == 200 and (world.media / "thumbs" / "256").is_dir()
    assert not [p for p in (world.media / "thumbs").rglob(".*")], "no temporary files left behind"
    for size in (63, 1025):
        assert (await api.get(f"/api/images/{image_id}/thumb", params={"size": size})).status_code == 422


# ---- decisions ----------------------------------------------------------------------------------

async def test_approve_records_feedback_and_event_and_the_second_decision_gets_409(api, world):
    image_id = world.mika_pending[0]
    response = await api.post(f"/api/images/{image_id}/approve", json={})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "approved" and body["decided_by"] == "human" and body["reviewer"] == "local"
    assert body["reviewed_at"] is not None
    again = await api.post(f"/api/images/{image_id}/approve", json={})
    assert again.status_code == 409
    assert again.json() == {"detail": f"image {image_id} was already approved by local"}
    reject = await api.post(f"/api/images/{image_id}/reject", json={"categories": ["blurry"], "comment": ""})
    assert reject.status_code == 409
    feedback = await world.db.fetch("SELECT * FROM review_feedback WHERE image_id = $1", image_id)
    assert [(f["decision"], f["reviewer"], f["character_id"]) for f in feedback] == [("approved", "local", world.mika)]
    events = await world.db.fetch("SELECT * FROM studio_events WHERE image_id = $1", image_id)
    assert [(e["kind"], e["character_id"], e["payload"]) for e in events] == [
        ("image_decided", world.mika, {"decision": "approved", "categories": []})]
    assert (await api.post("/api/images/999999/approve", json={})).status_code == 404


async def test_auto_decided_images_name_the_automatic_review(api, world):
    response = await api.post(f"/api/images/{world.rejected}/approve", json={})
    assert response.status_code == 409
    assert response.json()["detail"] == f"image {world.rejected} was already rejected by the automatic review"


async def test_reject_validates_categories_and_feeds_the_next_generation(api, world):
    image_id = world.mika_pending[1]
    unknown = await api.post(f"/api/images/{image_id}/reject", json={"categories": ["blurry", "too_cute"]})
    assert unknown.status_code == 422 and "'too_cute'" in messages(unknown)
    empty = await api.post(f"/api/images/{image_id}/reject", json={"categories": [], "comment": "meh"})
    assert empty.status_code == 422
    response = await api.post(f"/api/images/{image_id}/reject",
                              json={"categories": ["extra_limbs", "blurry", "extra_limbs"], "comment": "six fingers"})
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    row = await world.db.fetchrow("SELECT categories, comment FROM review_feedback WHERE image_id = $1", image_id)
    assert row["categories"] == ["extra_limbs", "blurry"] and row["comment"] == "six fingers"
    event = await world.db.fetchval("SELECT payload FROM studio_events WHERE image_id = $1", image_id)
    assert event == {"decision": "rejected", "categories": ["extra_limbs", "blurry"]}
    await api.post(f"/api/images/{world.mika_pending[2]}/reject", json={"categories": ["blurry"]})
    assert await feedback_counts(world.db, world.mika) == {"blurry": 2, "extra_limbs": 1}


async def test_reassign_moves_the_image_to_another_character(api, world):
    image_id = world.mika_pending[0]
    response = await api.post(f"/api/images/{image_id}/reassign", json={"character": "ryu"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["character"] == "ryu" and body["status"] == "approved" and body["decided_by"] == "human"
    event = await world.db.fetchrow("SELECT character_id, payload FROM studio_events WHERE image_id = $1", image_id)
    assert event["character_id"] == world.ryu
    assert event["payload"]["reassigned_from"] == "mika" and event["payload"]["decision"] == "approved"
    assert (await api.post(f"/api/images/{image_id}/reassign", json={"character": "mika"})).status_code == 409
    other = world.mika_pending[1]
    assert (await api.post(f"/api/images/{other}/reassign", json={"character": "nobody"})).status_code == 404
    # Already hers, or a character of another project: well-formed, but impossible with what is stored.
    already = await api.post(f"/api/images/{other}/reassign", json={"character": "mika"})
    assert already.status_code == 409 and already.json()["loc"] == ["body", "character"]
    assert (await api.post(f"/api/images/{other}/reassign", json={"character": "stranger"})).status_code == 409
    assert await world.db.fetchval("SELECT status FROM images WHERE id = $1", other) == "pending"


async def test_bulk_reports_decided_conflicts_and_missing(api, world):
    ids = world.mika_pending[:3] + [world.approved, 424242, world.mika_pending[0]]
    response = await api.post("/api/images/bulk", json={"action": "reject", "ids": ids,
                                                         "categories": ["style_drift"], "comment": "3d look"})
    assert response.status_code == 200, response.text
    assert response.json() == {"decided": world.mika_pending[:3], "conflicts": [world.approved], "missing": [424242]}
    assert await world.db.fetchval("SELECT count(*) FROM review_feedback WHERE comment = '3d look'") == 3
    assert await world.db.fetchval("SELECT count(*) FROM studio_events WHERE kind = 'image_decided'") == 3
    approve = await api.post("/api/images/bulk", json={"action": "approve", "ids": world.ryu_pending})
    assert approve.json()["decided"] == world.ryu_pending
    bad = await api.post("/api/images/bulk", json={"action": "reject", "ids": [world.mika_pending[3]],
                                                   "categories": ["nope"]})
    assert bad.status_code == 422 and "'nope'" in messages(bad)
    no_reason = await api.post("/api/images/bulk", json={"action": "reject", "ids": [world.mika_pending[3]]})
    assert no_reason.status_code == 422
    too_many = await api.post("/api/images/bulk", json={"action": "approve", "ids": list(range(1, 502))})
    assert too_many.status_code == 422
    assert await world.db.fetchval("SELECT status FROM images WHERE id = $1", world.mika_pending[3]) == "pending"


# ---- automatic review again ---------------------------------------------------------------------

async def test_review_again_with_the_preview_reviewer(api, world):
    pending = world.mika_pending[0]
    response = await api.post(f"/api/images/{pending}/review")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["review"]["backend"] == "preview" and body["review"]["model"] == "heuristic-v1"
    assert body["quality_score"] == pytest.approx(body["review"]["quality_score"])
    assert body["status"] in ("pending", "rejected", "approved")
    # A person's decision is never overruled; only the stored review changes.
    await api.post(f"/api/images/{world.mika_pending[1]}/approve", json={})
    decided = (await api.post(f"/api/images/{world.mika_pending[1]}/review")).json()
    assert decided["status"] == "approved" and decided["decided_by"] == "human"
    assert decided["review"]["backend"] == "preview"
    assert (await api.post("/api/images/999999/review")).status_code == 404
    lost = await seed_image(world.db, None, world.mika, 300)
    assert (await api.post(f"/api/images/{lost}/review")).status_code == 422


async def test_review_again_with_the_vision_model(world, db_url):
    with OllamaDouble() as ollama:
        with served_review_app(db_url, world.home, settings_for(ollama_url=ollama.url), backend="live") as base_url:
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as api:
                human = (await api.post(f"/api/images/{world.mika_pending[0]}/review")).json()
                dragon = (await api.post(f"/api/images/{world.ryu_pending[0]}/review")).json()
    # good_answer: 0.9, solo. A human character is approved automatically, a dragon never.
    assert human["review"]["backend"] == "ollama" and human["quality_score"] == pytest.approx(0.9)
    assert human["status"] == "approved" and human["decided_by"] == "auto"
    assert dragon["status"] == "pending" and dragon["decided_by"] is None
    assert len(ollama.requests) == 2 and ollama.requests[0]["messages"][-1]["images"]
    kinds = await world.db.fetch("SELECT payload FROM studio_events WHERE kind = 'image_reviewed' ORDER BY id")
    assert [k["payload"]["decision"] for k in kinds] == ["approved", "pending"]


# ---- upload -------------------------------------------------------------------------------------

def _png(seed: int) -> bytes:
    return png_bytes(seed, size=120)


async def test_upload_registers_a_pending_image(api, world):
    data = _png(500)
    response = await api.post("/api/characters/ryu/images", files={"file": ("x.png", data, "image/png")})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["character"] == "ryu" and body["status"] == "pending" and body["source"] == "uploaded"
    row = await world.db.fetchrow("SELECT * FROM images WHERE id = $1", body["id"])
    assert row["file_path"].startswith("datasets/ryu/images/") and (world.media / row["file_path"]).read_bytes() == data
    with Image.open(io.BytesIO(data)) as image:
        assert row["phash"] == phash_signed(image)
    assert (row["width"], row["height"]) == (120, 120)
    duplicate = await api.post("/api/characters/mika/images", files={"file": ("y.png", data, "image/png")})
    assert duplicate.status_code == 409 and str(body["id"]) in duplicate.json()["detail"]


async def test_upload_refuses_what_is_not_an_acceptable_image(api, world):
    async def upload(slug: str, data: bytes) -> httpx.Response:
        return await api.post(f"/api/characters/{slug}/images", files={"file": ("f.png", data, "image/png")})

    assert (await upload("nobody", _png(1))).status_code == 404
    not_image = await upload("ryu", b"GIF89a but not really an image")
    assert not_image.status_code == 422 and "not a readable" in messages(not_image)
    bomb = io.BytesIO()
    Image.new("1", (9000, 9000)).save(bomb, format="PNG")  # 81 Mpx in a few kB
    assert (await upload("ryu", bomb.getvalue())).status_code == 422
    assert (await upload("ryu", b"\x89PNG" + os.urandom(21 * 1024 * 1024))).status_code == 413
    assert not (world.media / "datasets" / "ryu").exists() or not any((world.media / "datasets" / "ryu").rglob("*.*"))


async def test_upload_removes_the_file_when_the_insert_fails(api, world):
    await world.db.execute("""
        CREATE FUNCTION refuse_uploads() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'uploads are switched off'; END $$;
        CREATE TRIGGER refuse_uploads BEFORE INSERT ON images FOR EACH ROW EXECUTE FUNCTION refuse_uploads();""")
    response = await api.post("/api/characters/ryu/images", files={"file": ("x.png", _png(600), "image/png")})
    assert response.status_code == 500
    folder = world.media / "datasets" / "ryu" / "images"
    assert not folder.exists() or list(folder.iterdir()) == []
    assert await world.db.fetchval("SELECT count(*) FROM images WHERE source = 'uploaded'") == 0

