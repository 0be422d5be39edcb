"""Run an aiohttp application on 127.0.0.1 in a background thread with its own event loop.

Test doubles are real HTTP/WebSocket servers: the code under test talks to them exactly as it
talks to the real services, over sockets, from its own event loop.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Awaitable, Callable

from aiohttp import web


class ServerThread:
    def __init__(self, make_app: Callable[[], web.Application]):
        self._make_app = make_app
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, coro: Awaitable):
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    async def _start(self) -> None:
        # Handlers still running at a stop (a websocket, a scripted slow reply) are cut off after a
        # second, as a stopped process cuts them, instead of aiohttp's minute of grace.
        self._runner = web.AppRunner(self._make_app(), handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def start(self) -> None:
        self._thread.start()
        self.call(self._start())

    def stop_serving(self) -> None:
        """Close the port and every open connection, as a server process that exits; the loop stays."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            self.call(runner.cleanup())

    def serve_again(self) -> None:
        """Listen again on the same port, with a fresh application (a restarted process)."""
        self.call(self._start())

    def stop(self) -> None:
        self.stop_serving()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)


class HttpDouble:
    """What every HTTP double shares: served on 127.0.0.1 while its `with` block runs.

    Subclasses build their aiohttp application in `_app`, and call `super().__init__()` first.
    `stop_serving()` / `serve_again()` take the service away and bring it back on the same port.
    """

    def __init__(self) -> None:
        self._server = ServerThread(self._app)

    def _app(self) -> web.Application:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return self._server.url

    def stop_serving(self) -> None:
        self._server.stop_serving()

    def serve_again(self) -> None:
        self._server.serve_again()

    def __enter__(self):
        self._server.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop()
