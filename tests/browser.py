"""Launch the system Chromium for browser tests through Playwright, without downloading a browser.

The browser is Debian's `chromium` package and the driver the `playwright` Python package; `playwright
install` is never run (it downloads a browser, which this closed network does not allow). Install with:

    apt-get install -y chromium
    .venv/bin/pip install playwright==1.65.2

`STUDIO_CHROMIUM` points at another Chromium binary. The flags keep Chromium off the network: it only
ever talks to the test server on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

import pytest

INSTALL_HINT = "apt-get install -y chromium && .venv/bin/pip install playwright==1.65.2 (never `playwright install`)"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """The Chromium binary to drive; fails the test with the install lines when there is none."""
    candidates = [os.environ.get("STUDIO_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(f"no Chromium found for the browser test; install it with: {INSTALL_HINT}")


def async_playwright():
    """Playwright's async entry point, or a test failure naming the install lines."""
    try:
        from playwright.async_api import async_playwright as entry
    except ImportError:
        pytest.fail(f"the playwright package is missing; install it with: {INSTALL_HINT}")
    return entry()


async def launch_chromium(playwright):
    """A headless system Chromium; close it (or leave the `async with async_playwright()` block) when done."""
    return await playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)


@asynccontextmanager
async def chromium_page(**options) -> AsyncIterator:
    """A page of a fresh headless system Chromium (1280x900 unless `viewport` is given), closed after."""
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        try:
            yield await browser.new_page(**{"viewport": {"width": 1280, "height": 900}, **options})
        finally:
            await browser.close()


def token_user(secret: str, sub: str = "ayaka") -> str:
    """A ten-minute HS256 JWT for a person outside the trusted networks, as the pages receive it."""
    import time

    import jwt

    return jwt.encode({"sub": sub, "aud": "anime-studio", "exp": int(time.time()) + 600}, secret, algorithm="HS256")
