"""The gallery routes on the real app (uvicorn on 127.0.0.1) and a real PostgreSQL: one character's
whole dataset by status, source, score and batch, newest first by keyset, its counts against the target
and the "complete" state, and one image's provenance with the decisions people took on it."""

from __future__ import annotations

import httpx
import pytest

from tests.gallery_seed import BATCH_A, BATCH_B, seed_gallery
from tests.review_seed import served_review_app

@pytest.fixture
async def world(db, tmp_path):
    home = tmp_path / "home"
    world = await seed_gallery(db, home / "media")
    world.home = home
    return world


@pytest.fixture
async def api(world, db_url):
    with served_review_app(db_url, world.home) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            yield client


async def ids(api: httpx.AsyncClient, **params) -> list[int]:
    response = await api.get("/api/gallery/mika/images", params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_summary_counts_against_the_target_and_lists_the_batches(api, world):
    summary = (await api.get("/api/gallery/mika")).json()
    assert {k: summary[k] for k in ("character", "name", "project", "target", "approved", "pending", "rejected",
                                     "uploaded", "missing", "complete")} == {
        "character": "mika", "name": "Mika", "project": "harbor", "target": 4, "approved": 2, "pending": 3,
        "rejected": 1, "uploaded": 1, "missing": 2, "complete": False}
    assert summary["gpu_seconds"] == pytest.approx(7.5)
    assert [b["batch"] for b in summary["batches"]] == [BATCH_B, BATCH_A]  # newest first
    assert summary["batches"][1]["requested"] == 3 and summary["batches"][1]["status"] == "succeeded"


async def test_the_dataset_is_complete_once_approved_reaches_the_target(api, world):
    for image_id in world.b:
        assert (await api.post(f"/api/images/{image_id}/approve")).status_code == 200
    summary = (await api.get("/api/gallery/mika")).json()
    assert (summary["approved"], summary["missing"], summary["complete"]) == (4, 0, True)


async def test_filters_pick_by_status_source_score_and_batch(api, world):
    a, b = world.a, world.b
    assert await ids(api) == [world.uploaded, *reversed(b), *reversed(a)]  # every status, newest first
    assert await ids(api, status="approved") == [world.uploaded, a[0]]
    assert await ids(api, status="rejected") == [a[1]]
    assert await ids(api, source="uploaded") == [world.uploaded]
    assert await ids(api, source="generated", status="approved") == [a[0]]
    assert await ids(api, batch=BATCH_A) == list(reversed(a))
    assert await ids(api, batch=BATCH_B, status="pending") == list(reversed(b))
    assert await ids(api, min_score=0.6) == [b[0], a[2], a[0]]
    assert await ids(api, min_score=0.4, max_score=0.6) == [b[1], a[2]]
    assert world.other not in await ids(api)  # another character's image never shows


async def test_keyset_pages_cover_the_dataset_once(api, world):
    seen, after = [], None
    while True:
        params = {"limit": 2, **({"after": after} if after else {})}
        body = (await api.get("/api/gallery/mika/images", params=params)).json()
        assert len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        if not (after := body["next"]):
            break
    assert seen == sorted([*world.a, *world.b, world.uploaded], reverse=True)


async def test_provenance_shows_what_made_the_image_and_who_decided(api, world):
    detail = (await api.get(f"/api/images/{world.a[1]}/provenance")).json()
    assert detail["image"]["id"] == world.a[1] and detail["image"]["status"] == "rejected"
    assert detail["image"]["image_url"] == f"/api/images/{world.a[1]}/file"
    provenance = detail["provenance"]
    assert provenance["batch"] == BATCH_A and provenance["batch_strategy"] == "raise_cfg"
    assert provenance["checkpoint"] == "anything-v5.safetensors" and provenance["workflow_hash"] == "wf-1"
    assert provenance["comfy_prompt_id"] == f"p-{world.a[1]}" and (provenance["width"], provenance["height"]) == (96, 96)
    assert provenance["batch_parameters"]["used"]["cfg"] == 7.0
    [feedback] = detail["feedback"]
    assert (feedback["decision"], feedback["categories"], feedback["comment"], feedback["reviewer"]) == (
        "rejected", ["blurry", "off_model_colours"], "hair too pale", "ayaka")
    uploaded = (await api.get(f"/api/images/{world.uploaded}/provenance")).json()
    assert uploaded["image"]["source"] == "uploaded" and uploaded["provenance"]["batch"] is None


@pytest.mark.parametrize(("path", "params", "status", "field"), [
    ("/api/gallery/nobody", {}, 404, None),
    ("/api/gallery/nobody/images", {}, 404, None),
    ("/api/images/999999/provenance", {}, 404, None),
    ("/api/gallery/mika/images", {"status": "maybe"}, 422, "status"),
    ("/api/gallery/mika/images", {"source": "stolen"}, 422, "source"),
    ("/api/gallery/mika/images", {"batch": "x'; DROP TABLE images"}, 422, "batch"),
    ("/api/gallery/mika/images", {"min_score": "1.5"}, 422, "min_score"),
    ("/api/gallery/mika/images", {"limit": "0"}, 422, "limit"),
    ("/api/gallery/mika/images", {"after": "-1"}, 422, "after"),
    ("/api/gallery/mika/images", {"after": "99999999999999999999"}, 422, "after"),
    ("/api/images/0/provenance", {}, 422, "image_id"),
])
async def test_bad_input_is_named(api, path, params, status, field):
    response = await api.get(path, params=params)
    assert response.status_code == status, response.text
    if field:
        assert field in [part for error in response.json()["detail"] for part in error["loc"]]


async def test_the_routes_are_documented(api):
    spec = (await api.get("/openapi.json")).json()
    images = spec["paths"]["/api/gallery/{character}/images"]["get"]
    assert {p["name"] for p in images["parameters"]} >= {"status", "source", "min_score", "max_score", "batch",
                                                          "limit", "after"}
    assert "/api/gallery/{character}" in spec["paths"] and "/api/images/{image_id}/provenance" in spec["paths"]
