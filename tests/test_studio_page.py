"""The scenes-and-episodes page in headless Chromium against the real app and database.

A person opens an episode, sees how it was assembled and that it is not published, plays it with its
subtitles, opens its scene, sees each shot's frame and status, and asks for one shot to be rendered again.
"""

from __future__ import annotations

from PIL import Image

from tests.api_server import serve_with_env
from tests.browser import chromium_page, token_user
from tests.test_episode_media_api import seed


async def seed_with_keyframe(db, studio_env, tmp_path) -> int:
    """The episode of tests/test_episode_media_api.py, its first shot with a 160x90 keyframe; the shot count."""
    shots = await seed(db, studio_env, tmp_path)
    frame = studio_env / "media" / "shots" / "lamp-goes-out" / "k1.png"
    frame.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (160, 90), (200, 120, 40)).save(frame)
    await db.execute("UPDATE shots SET keyframe_path = $1 WHERE position = 1", str(frame.relative_to(studio_env / "media")))
    return shots


async def open_episode(page, address: str) -> list[str]:
    """The studio page at `address` with the first episode's facts shown; the page's errors, collected."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(address)
    await page.click("#episodes button")
    await page.wait_for_function("() => document.getElementById('episode-facts').textContent.includes('LUFS')")
    return errors


async def test_studio_page_plays_the_episode_and_rerenders_a_shot(studio_env, db, db_url, tmp_path, monkeypatch):
    shots = await seed_with_keyframe(db, studio_env, tmp_path)
    second = await db.fetchval("SELECT shot_key FROM shots WHERE position = 2")
    await db.execute("UPDATE shots SET input_hash = 'abc', status = 'rendered' WHERE position = 2")

    with serve_with_env(monkeypatch, db_url, STUDIO_HOME=str(studio_env),
                        STUDIO_DAGSTER_GRAPHQL_URL="http://127.0.0.1:9/graphql") as url:
        async with chromium_page() as page:
            errors = await open_episode(page, f"{url}/studio")
            facts = await page.text_content("#episode-facts")
            assert "stream copy" in facts and "3.5 s" in facts
            assert await page.text_content("#publish-state") == "Not published"

            await page.click("#play-episode")
            await page.wait_for_function(
                "() => { const v = document.getElementById('player'); return v.currentTime > 1.2 && "
                "v.textTracks.length && v.textTracks[0].cues && v.textTracks[0].cues.length > 0 }",
                timeout=15000)
            cue = await page.evaluate("() => document.getElementById('player').textTracks[0].cues[0].getCueAsHTML().textContent")
            assert cue == "A & B"  # escaped in the WebVTT, shown as written

            await page.click("#scenes button")
            await page.wait_for_selector(f"#shots li:nth-child({shots})")
            await page.wait_for_function("() => document.querySelector('#shots li img') && "
                                         "document.querySelector('#shots li img').naturalWidth === 160")
            # A frame that fails to load is marked when its error event fires: wait for it, not a count now.
            from playwright.async_api import expect
            await expect(page.locator("#shots .no-frame")).to_have_count(shots - 1)
            card = page.locator(f"#shots li[data-key='{second}']")
            assert "rendered" in await card.text_content()
            await card.locator("button").click()
            await page.wait_for_function("() => document.getElementById('message').textContent.includes('Dagster webserver')")
            row = await db.fetchrow("SELECT input_hash, status FROM shots WHERE shot_key = $1", second)
            assert row["input_hash"] is None and row["status"] == "planned"
            assert "planned" in await page.locator(f"#shots li[data-key='{second}']").text_content()
            await page.screenshot(path=str(tmp_path / "studio_page.png"))
            assert errors == []


async def test_a_token_user_plays_the_episode_and_sees_the_shot_frames(studio_env, db, db_url, tmp_path):
    """Outside the trusted networks every call, frame, video and subtitle file the page asks for carries
    the token handed over in the fragment (a <video> cannot send it: the page fetches the files)."""
    import secrets

    from playwright.async_api import expect

    from studio.settings import settings_for
    from tests.api_server import serve_api
    from tests.review_seed import review_app

    shots = await seed_with_keyframe(db, studio_env, tmp_path)
    secret = secrets.token_urlsafe(32)
    token = token_user(secret)
    app = review_app(db_url, studio_env, settings_for(api_trusted_networks=(), jwt_secret=secret))
    with serve_api(app) as url:
        async with chromium_page() as page:
            errors = await open_episode(page, f"{url}/studio#token={token}")
            await page.click("#play-episode")
            await page.wait_for_function(
                "() => { const v = document.getElementById('player'); return v.currentTime > 1.2 && "
                "v.textTracks.length && v.textTracks[0].cues && v.textTracks[0].cues.length > 0 }",
                timeout=15000)
            await page.click("#scenes button")
            await page.wait_for_selector(f"#shots li:nth-child({shots})")
            await page.wait_for_function("() => document.querySelector('#shots li img') && "
                                         "document.querySelector('#shots li img').naturalWidth === 160")
            await expect(page.locator("#message")).to_have_text("")
            assert "token" not in page.url
            assert errors == []
