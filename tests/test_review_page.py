"""The review page in a real browser: system Chromium against a real uvicorn server and a real database.

A person picks a character, approves one image with A, moves with the arrow keys, rejects another with R,
two reason keys and Enter, and meets an image someone else decided meanwhile (409). The database must hold
exactly those decisions and the page's counts must follow them.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import httpx
from PIL import Image, ImageDraw

from api.app import create_app
from studio.settings import Settings, load_settings, settings_for
from tests.api_server import serve_api
from tests.browser import chromium_page, token_user

SCREENSHOT = Path("/tmp/review_page.png")

KITO_CHECKLIST = [
    ("species is dragon — NOT human", True),
    ("scales is the colour #3a7d44", True),
    ("has short horns", False),
    ("does NOT show: human ears", True),
]


def build_app(tmp_path: Path, db_url: str, api_settings: Settings | None = None):
    settings = (api_settings or settings_for()).with_values(home=tmp_path / "home", backend="preview",
                                                            database_url=db_url)
    # create_app serves the review API and the page, as `studio serve` does.
    app = create_app(settings=settings, database_url=db_url)
    return app, settings.media_root


def png(colour: tuple[int, int, int], label: str) -> bytes:
    img = Image.new("RGB", (256, 256), colour)
    draw = ImageDraw.Draw(img)
    draw.ellipse((64, 48, 192, 176), fill=(250, 240, 225), outline=(30, 30, 30), width=4)
    draw.polygon([(80, 60), (96, 20), (112, 56)], fill=(60, 60, 60))  # a horn
    draw.text((12, 228), label, fill=(255, 255, 255))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


async def seed(db_url: str, media_root: Path) -> dict[str, list[int]]:
    """A project with a dragon (6 pending images, one with a failed species check) and a human (2)."""
    conn = await asyncpg.connect(db_url)
    try:
        project_id = await conn.fetchval(
            "INSERT INTO projects (slug, name) VALUES ('lantern-harbor', 'Lantern Harbor') RETURNING id")
        characters = {
            "kito": ("Kito", "a small green dragon with short horns",
                     {"species": "dragon — NOT human", "key_colors": {"scales": "#3a7d44"},
                      "features": ["short horns"], "common_errors": ["human ears"]}, 6, (58, 125, 68)),
            "mira": ("Mira", "a lighthouse keeper girl with a red scarf",
                     {"species": "human", "features": ["red scarf"]}, 2, (160, 60, 70)),
        }
        ids: dict[str, list[int]] = {}
        for slug, (name, design, appearance, count, colour) in characters.items():
            character_id = await conn.fetchval(
                "INSERT INTO characters (project_id, slug, name, design_prompt, appearance_data, target_images)"
                " VALUES ($1, $2, $3, $4, $5::jsonb, 10) RETURNING id",
                project_id, slug, name, design, json.dumps(appearance))
            ids[slug] = []
            for n in range(count):
                rel = f"characters/{slug}/{slug}_{n:03d}.png"
                data = png(tuple(max(0, c - 18 * n) for c in colour), f"{slug} #{n}")
                (media_root / rel).parent.mkdir(parents=True, exist_ok=True)
                (media_root / rel).write_bytes(data)
                score = round(0.45 + 0.06 * n, 2)
                checklist = KITO_CHECKLIST if slug == "kito" else [("has red scarf", n % 2 == 0)]
                review = {"quality_score": score, "solo": True,
                          "checklist": [{"item": i, "passed": p} for i, p in checklist],
                          "species_ok": (None if slug == "mira" else n != 1),
                          "reason": "looks on-model" if n % 2 else "horns unclear",
                          "backend": "preview", "model": "heuristic", "error": None}
                image_id = await conn.fetchval(
                    "INSERT INTO images (character_id, file_path, sha256, phash, width, height, status,"
                    " quality_score, review, prompt, seed, backend)"
                    " VALUES ($1, $2, $3, $4, 256, 256, 'pending', $5, $6::jsonb, $7, $8, 'preview') RETURNING id",
                    character_id, rel, hashlib.sha256(data).hexdigest(), 1000 + len(ids[slug]) + 10 * n,
                    score, json.dumps(review), f"{name}, {design}, anime style", 4200 + n)
                ids[slug].append(image_id)
        return ids
    finally:
        await conn.close()


async def test_page_and_static_files_are_served_with_a_strict_policy():
    app = create_app(settings=load_settings({"STUDIO_HOME": "/nonexistent"}), database_url="postgresql://unused")
    # No lifespan: the page needs no database.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        await check_static(client)


async def check_static(client: httpx.AsyncClient) -> None:
    html = await client.get("/")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in html.headers["content-security-policy"]
    assert '<script src="/static/review.js"' in html.text and "http" not in html.text.split("<body>")[0]
    assert (await client.get("/static/review.js")).headers["content-type"].startswith("text/javascript")
    assert (await client.get("/static/review.css")).headers["content-type"].startswith("text/css")
    for bad in ("/static/..%2Fapp.py", "/static/missing.js", "/static/%2e%2e%2fdeps.py", "/static/"):
        assert (await client.get(bad)).status_code == 404, bad


@pytest.mark.timeout(60)
async def test_keyboard_review_in_a_real_browser(tmp_path, db_url):
    app, media_root = build_app(tmp_path, db_url)
    ids = await seed(db_url, media_root)
    kito = ids["kito"]

    with serve_api(app) as base_url:
        async with chromium_page() as page_:
            errors: list[str] = []
            failed: list[tuple[int, str]] = []
            page_.on("pageerror", lambda exc: errors.append(str(exc)))
            # Failed requests are checked one by one below, not through their console lines.
            page_.on("console", lambda msg: errors.append(msg.text)
                     if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
            page_.on("response", lambda r: failed.append((r.status, urlsplit(r.url).path))
                     if r.status >= 400 else None)
            await run_review(page_, base_url, db_url, kito)
            assert errors == [], errors
            assert failed == [(409, f"/api/images/{kito[3]}/approve")]

    conn = await asyncpg.connect(db_url)
    try:
        rows = {r["id"]: r for r in await conn.fetch(
            "SELECT id, status, decided_by, reviewer FROM images WHERE id = ANY($1::bigint[])", kito)}
        feedback = await conn.fetch(
            "SELECT image_id, decision, categories FROM review_feedback ORDER BY id")
    finally:
        await conn.close()

    approved, skipped, rejected, taken = kito[0], kito[1], kito[2], kito[3]
    assert (rows[approved]["status"], rows[approved]["decided_by"]) == ("approved", "human")
    assert (rows[rejected]["status"], rows[rejected]["decided_by"]) == ("rejected", "human")
    assert rows[taken]["reviewer"] == "someone-else"  # the page's approve met a 409 and changed nothing
    assert all(rows[i]["status"] == "pending" for i in (skipped, kito[4], kito[5]))
    assert [(f["image_id"], f["decision"], sorted(f["categories"])) for f in feedback] == [
        (approved, "approved", []),
        (rejected, "rejected", ["blurry", "wrong_species"]),
    ]


@pytest.mark.timeout(60)
async def test_a_token_user_sees_the_images_and_decides_as_themself(tmp_path, db_url):
    """Outside the trusted networks every request, thumbnails included, needs the bearer token."""
    from playwright.async_api import expect

    secret = secrets.token_urlsafe(32)
    app, media_root = build_app(tmp_path, db_url, settings_for(api_trusted_networks=(), jwt_secret=secret))
    kito = (await seed(db_url, media_root))["kito"]
    token = token_user(secret)

    with serve_api(app) as base_url:
        async with chromium_page() as page_:  # all six in view
            failed: list[tuple[int, str]] = []
            page_.on("response", lambda r: failed.append((r.status, urlsplit(r.url).path))
                     if r.status >= 400 else None)
            await page_.goto(f"{base_url}/#token={token}")
            await page_.get_by_role("button", name="Kito").click()
            thumbs = page_.locator("#grid > li.card img.thumb")
            await expect(thumbs).to_have_count(6)
            await page_.wait_for_function(
                "() => [...document.querySelectorAll('#grid img.thumb')]"
                ".every(img => img.complete && img.naturalWidth > 0)", timeout=10_000)
            assert "token" not in page_.url  # handed over once, not left in the address bar or history
            await page_.keyboard.press("a")
            await expect(page_.locator("#notice")).to_have_text(f"Approved #{kito[0]}")
            assert failed == []

    conn = await asyncpg.connect(db_url)
    try:
        row = await conn.fetchrow("SELECT status, decided_by, reviewer FROM images WHERE id = $1", kito[0])
    finally:
        await conn.close()
    assert dict(row) == {"status": "approved", "decided_by": "human", "reviewer": "ayaka"}


async def run_review(page_, url: str, db_url: str, kito: list[int]) -> None:
    from playwright.async_api import expect

    expect.set_options(timeout=5000)
    cards = page_.locator("#grid > li.card")
    selected = page_.locator("#grid > li.card.selected")
    kito_button = page_.get_by_role("button", name="Kito")

    # Four to a page, so the second page comes through the `next` cursor.
    await page_.goto(f"{url}/?limit=4")
    await expect(kito_button).to_contain_text("6 pending")
    await kito_button.click()
    await expect(kito_button).to_have_attribute("aria-pressed", "true")
    await expect(cards).to_have_count(4)
    await page_.get_by_role("button", name="Load more").click()
    await expect(cards).to_have_count(6)
    assert [int(i) for i in await cards.evaluate_all("els => els.map(e => e.dataset.id)")] == kito

    # Species flag: a dragon whose species check failed asks for a person's look.
    await expect(cards.nth(1).locator(".species")).to_have_text("Needs species check: dragon")
    await expect(cards.nth(0).locator(".species")).to_have_text("Species OK: dragon")
    await expect(cards.nth(0).locator(".checklist .fail")).to_have_count(1)

    # A approves the selected (first) card; it leaves the grid and the counts follow.
    await expect(selected).to_have_attribute("data-id", str(kito[0]))
    await page_.keyboard.press("a")
    await expect(cards).to_have_count(5)
    await expect(page_.locator("#notice")).to_have_text(f"Approved #{kito[0]}")
    await expect(kito_button).to_contain_text("1 approved")
    await expect(selected).to_have_attribute("data-id", str(kito[1]))

    # Arrows move the selection; R, a reason, Esc cancels without deciding anything.
    await page_.keyboard.press("ArrowRight")
    await page_.keyboard.press("ArrowRight")
    await page_.keyboard.press("ArrowLeft")
    await expect(selected).to_have_attribute("data-id", str(kito[2]))
    await page_.keyboard.press("r")
    await page_.keyboard.press("3")
    await expect(selected.locator("input[value=extra_limbs]")).to_be_checked()
    await page_.keyboard.press("Escape")
    await expect(page_.locator(".reject-form")).to_have_count(0)

    # R, 1 (wrong species), 5 (blurry), Enter rejects with exactly those reasons.
    await page_.keyboard.press("r")
    await page_.keyboard.press("1")
    await page_.keyboard.press("5")
    form = selected.locator(".reject-form")
    await expect(form.locator("input:checked")).to_have_count(2)
    await page_.screenshot(path=str(SCREENSHOT), full_page=True)
    await page_.keyboard.press("Enter")
    await expect(cards).to_have_count(4)
    await expect(kito_button).to_contain_text("1 rejected")
    await expect(selected).to_have_attribute("data-id", str(kito[3]))

    # Someone else decides the selected image meanwhile: A meets a 409, a notice, and the card goes.
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("UPDATE images SET status = 'approved', decided_by = 'human', reviewer = 'someone-else',"
                           " reviewed_at = now() WHERE id = $1", kito[3])
    finally:
        await conn.close()
    await page_.keyboard.press("a")
    await expect(page_.locator("#notice")).to_contain_text("Someone else already decided")
    await expect(cards).to_have_count(3)
    await expect(kito_button).to_contain_text("2 approved")
    await expect(kito_button).to_contain_text("3 pending")
    await expect(kito_button).to_contain_text("1 rejected")
