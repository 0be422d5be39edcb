"""The gallery and the review page's live updates in a real browser: system Chromium against a real
uvicorn server and a real database (tests/browser.py says how Chromium is found).

A person opens a character's gallery, narrows it by view, source, batch and score, opens an image full
size with its provenance and the reasons it was rejected, and sees "Dataset complete" once approvals
made elsewhere reach the target; on the review page, an image a batch adds shows up without a reload.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import httpx
import pytest

from api.app import create_app
from studio.settings import load_settings, settings_for
from tests.api_server import serve_api
from tests.browser import chromium_page, token_user
from tests.gallery_seed import BATCH_A, CHECKPOINT, seed_gallery
from tests.review_seed import review_app, seed_image

POLL_MS = 300  # the pages' ?poll=: quick, so a change elsewhere shows within a second


async def test_the_gallery_page_and_its_files_are_served_with_the_strict_policy():
    app = create_app(settings=load_settings({"STUDIO_HOME": "/nonexistent"}), database_url="postgresql://unused")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        html = await client.get("/gallery")
        assert html.status_code == 200 and "default-src 'self'" in html.headers["content-security-policy"]
        for script in ("/static/client.js", "/static/gallery.js"):
            assert f'<script src="{script}"' in html.text
            assert (await client.get(script)).headers["content-type"].startswith("text/javascript")
        assert (await client.get("/static/gallery.css")).headers["content-type"].startswith("text/css")


class Browser:
    """A page of system Chromium that records script errors and failed requests."""

    def __init__(self, page_):
        self.page = page_
        self.errors: list[str] = []
        self.failed: list[tuple[int, str]] = []
        page_.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page_.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page_.on("response", lambda r: self.failed.append((r.status, urlsplit(r.url).path))
                 if r.status >= 400 else None)


@pytest.fixture
async def served(db, db_url, tmp_path):
    home = tmp_path / "home"
    world = await seed_gallery(db, home / "media")
    world.media = home / "media"
    with serve_api(review_app(db_url, home)) as base_url:
        async with chromium_page() as page:
            tab = Browser(page)
            yield base_url, tab, world
            assert tab.errors == [] and tab.failed == []


def tile_ids(tab: Browser):
    return tab.page.locator("#grid > li.tile").evaluate_all("(tiles) => tiles.map((t) => Number(t.dataset.id))")


@pytest.mark.timeout(90)
async def test_filters_change_what_is_shown_and_a_click_opens_the_image_with_its_provenance(served):
    from playwright.async_api import expect

    base_url, tab, world = served
    a, b = world.a, world.b
    page_ = tab.page
    await page_.goto(f"{base_url}/gallery?poll={POLL_MS}")
    await page_.get_by_role("button", name="Mika").click()
    tiles = page_.locator("#grid > li.tile")
    await expect(tiles).to_have_count(6)
    assert await tile_ids(tab) == [world.uploaded, b[1], b[0], a[2], a[1], a[0]]  # newest first
    await expect(page_.locator("#progress-text")).to_have_text("2 of 4 approved, 2 to go")
    await expect(page_.locator("#complete")).to_be_hidden()

    views = page_.get_by_role("group", name="Show")
    await views.get_by_role("button", name="Approved").click()
    await expect(tiles).to_have_count(2)
    assert await tile_ids(tab) == [world.uploaded, a[0]]
    await views.get_by_role("button", name="Rejected").click()
    await expect(tiles).to_have_count(1)
    assert "status=rejected" in page_.url  # the view is kept in the address
    await views.get_by_role("button", name="All").click()
    await page_.get_by_label("Source").select_option("uploaded")
    await expect(tiles).to_have_count(1)
    await page_.get_by_role("button", name="Clear filters").click()
    await expect(tiles).to_have_count(6)
    await page_.get_by_label("Batch").select_option(BATCH_A)
    await expect(tiles).to_have_count(3)
    assert await tile_ids(tab) == [a[2], a[1], a[0]]
    await page_.get_by_label("Score from").fill("0.5")
    await page_.get_by_label("Score from").press("Tab")  # a change event, as a person leaving the field
    await expect(tiles).to_have_count(2)
    assert await tile_ids(tab) == [a[2], a[0]]
    await page_.get_by_role("button", name="Clear filters").click()
    await expect(tiles).to_have_count(6)

    # The rejected image, full size, with what made it and why a person rejected it.
    await page_.locator(f'#grid > li.tile[data-id="{a[1]}"] button.open').click()
    viewer = page_.get_by_role("dialog")
    await expect(viewer).to_be_visible()
    await expect(viewer.get_by_role("heading", level=3)).to_have_text(f"#{a[1]} · Mika")
    await page_.wait_for_function(
        "() => { const img = document.getElementById('viewer-image');"
        " return img.complete && img.naturalWidth === 96; }", timeout=10_000)  # the file, not a thumbnail
    await expect(viewer.locator("#viewer-status")).to_contain_text("rejected (ayaka)")
    provenance = viewer.locator("#viewer-provenance")
    for text in (BATCH_A, CHECKPOINT, "raise_cfg", f"p-{a[1]}", "96 × 96", "wf-1"):
        await expect(provenance).to_contain_text(text)
    await expect(viewer.locator("#viewer-feedback")).to_contain_text(
        "rejected by ayaka: blurry, off_model_colours (“hair too pale”)")
    await expect(viewer.locator("#viewer-checklist")).to_contain_text("hair colour #2b1d4e")
    await page_.keyboard.press("ArrowRight")  # the next image in the grid, newest first
    await expect(viewer.get_by_role("heading", level=3)).to_have_text(f"#{a[0]} · Mika")
    await expect(viewer.locator("#viewer-feedback")).to_be_empty()
    await page_.keyboard.press("Escape")
    await expect(viewer).to_be_hidden()


@pytest.mark.timeout(90)
async def test_the_complete_state_shows_when_approvals_reach_the_target(served):
    from playwright.async_api import expect

    base_url, tab, world = served
    page_ = tab.page
    await page_.goto(f"{base_url}/gallery?character=mika&status=approved&poll={POLL_MS}")
    await expect(page_.locator("#grid > li.tile")).to_have_count(2)
    await expect(page_.locator("#complete")).to_be_hidden()
    async with httpx.AsyncClient(base_url=base_url) as client:  # a person on the review page, meanwhile
        for image_id in world.b:
            assert (await client.post(f"/api/images/{image_id}/approve")).status_code == 200
    complete = page_.get_by_role("status").filter(has_text="Dataset complete")
    await expect(complete).to_have_text("Dataset complete: 4 of 4 approved, ready for training")
    await expect(page_.locator("#grid > li.tile")).to_have_count(4)  # the approved view followed
    await expect(page_.locator("#summary")).to_have_attribute("data-complete", "true")
    await expect(page_.locator('button.character[data-character="mika"]')).to_contain_text("4 of 4 approved: complete")


@pytest.mark.timeout(90)
async def test_the_review_page_shows_images_as_a_batch_adds_them(served, db):
    from playwright.async_api import expect

    base_url, tab, world = served
    page_ = tab.page
    await page_.goto(f"{base_url}/?character=mika&poll={POLL_MS}")
    cards = page_.locator("#grid > li.card")
    await expect(cards).to_have_count(3)
    mika = page_.locator('button.character[data-character="mika"]')
    await expect(mika.locator('[data-count="pending"]')).to_have_text("3 pending")
    added = await seed_image(db, world.media, world.mika, 8, score=0.8)  # as a running batch registers one
    await expect(cards).to_have_count(4)
    await expect(page_.locator(f'#grid > li.card[data-id="{added}"]')).to_be_visible()
    await expect(page_.locator("#notice")).to_have_text("1 new for Mika")
    await expect(mika.locator('[data-count="pending"]')).to_have_text("4 pending")
    await page_.keyboard.press("a")  # the page is still driven by keyboard after the update
    await expect(page_.locator("#notice")).to_have_text(f"Approved #{world.a[2]}")  # the first still selected
    await page_.get_by_role("link", name="Whole dataset in the gallery").click()
    await expect(page_.get_by_role("heading", name="Gallery: Mika")).to_be_visible()
    await expect(page_.locator("#grid > li.tile")).to_have_count(7)  # every status, the new image too


@pytest.mark.timeout(90)
async def test_a_token_user_opens_the_gallery_and_sees_every_image(db, db_url, tmp_path):
    """Outside the trusted networks: the page is served without a token, and every request it makes,
    thumbnails and the full-size file included, carries the one handed over in the fragment."""
    from playwright.async_api import expect

    secret = secrets.token_urlsafe(32)
    home = tmp_path / "home"
    world = await seed_gallery(db, home / "media")
    token = token_user(secret)
    app = review_app(db_url, home, settings_for(api_trusted_networks=(), jwt_secret=secret))
    with serve_api(app) as base_url:
        async with chromium_page() as page:
            tab = Browser(page)
            await tab.page.goto(f"{base_url}/gallery?character=mika#token={token}")
            await expect(tab.page.locator("#grid > li.tile img.thumb")).to_have_count(6)
            await tab.page.wait_for_function(
                "() => [...document.querySelectorAll('#grid img.thumb')]"
                ".every(img => img.complete && img.naturalWidth > 0)", timeout=10_000)
            await tab.page.locator(f'#grid > li.tile[data-id="{world.a[0]}"] button.open').click()
            await tab.page.wait_for_function(
                "() => { const img = document.getElementById('viewer-image');"
                " return img.complete && img.naturalWidth === 96; }", timeout=10_000)
            assert "token" not in tab.page.url
            assert tab.errors == [] and tab.failed == []
