"""Cross-site writes in a real browser: system Chromium, the service on one origin, an attacker's page
on another (same host, another port: same site, other origin). A person on the trusted network opens
the attacker's page; its auto-submitted HTML form and its no-cors fetch must not approve anything.
The service's own page, on its own origin, still can (tests/test_review_page.py drives it fully).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from api.app import create_app
from studio.db.pool import connect
from tests.api_server import serve_api
from tests.browser import async_playwright, launch_chromium
from tests.review_seed import seed_character, seed_image, seed_project, studio_settings


def attacker_site(html: str):
    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def _status(db_url: str, image_id: int) -> str:
    async with connect(db_url) as conn:
        return await conn.fetchval("SELECT status FROM images WHERE id = $1", image_id)


async def test_a_cross_origin_form_post_and_no_cors_fetch_are_refused(db, db_url, tmp_path):
    home = tmp_path / "home"
    character = await seed_character(db, await seed_project(db), "mika")
    by_form = await seed_image(db, home / "media", character, 1)
    by_fetch = await seed_image(db, home / "media", character, 2)
    by_page = await seed_image(db, home / "media", character, 3)
    with serve_api(create_app(studio_settings(home), database_url=db_url)) as api:
        evil = attacker_site(f"""<!doctype html><html><body>
            <form id="f" method="post" action="{api}/api/images/{by_form}/approve" enctype="text/plain">
              <input name='{{"x":"' value='"}}'></form>
            <script>
              fetch("{api}/api/images/{by_fetch}/approve", {{method: "POST", mode: "no-cors",
                     headers: {{"Content-Type": "text/plain"}}, body: "{{}}"}}).finally(() => {{
                document.title = "fetched"; document.getElementById("f").submit(); }});
            </script></body></html>""")
        try:
            async with async_playwright() as playwright:
                browser = await launch_chromium(playwright)
                page = await browser.new_page()
                answers = []
                page.on("response", lambda r: answers.append((r.url, r.status)))
                await page.goto(f"http://127.0.0.1:{evil.server_address[1]}/")
                await page.wait_for_url(f"{api}/api/images/{by_form}/approve", timeout=10_000)
                form_answer = await page.content()
                # The service's own origin: a script on its page may write.
                await page.goto(f"{api}/")
                own = await page.evaluate(f"""async () => (await fetch("/api/images/{by_page}/approve",
                    {{method: "POST", headers: {{"Content-Type": "application/json"}}, body: "{{}}"}})).status""")
                await browser.close()
            async with httpx.AsyncClient() as client:
                metrics = (await client.get(f"{api}/metrics")).text
        finally:
            evil.shutdown()
    assert (f"{api}/api/images/{by_form}/approve", 403) in answers and "cross-site" in form_answer, answers
    # The no-cors answer is opaque to the page; the service's own count shows both writes were refused.
    # (refused before routing, so under the "unmatched" route label)
    refused = 'studio_http_requests_total{method="POST",route="unmatched",status="403"} 2.0'
    assert refused in metrics, metrics
    assert await _status(db_url, by_form) == "pending"
    assert await _status(db_url, by_fetch) == "pending"
    assert own == 200 and await _status(db_url, by_page) == "approved"
