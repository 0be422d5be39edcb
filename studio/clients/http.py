"""HTTP clients for the service resources, and the per-event-loop sessions that let calls share them.

httpx builds a fresh SSL context (loading the CA bundle, ~20 ms) for every AsyncClient unless it
is given one; with per-call clients that alone was most of the per-image overhead. One context is
made per process and shared. Plain-http requests go through http_transport.py, which spends a
tenth of the CPU httpx's default transport does per request.

A batch makes hundreds of calls to the same server; a client (and its kept-alive connections) per
call costs a TCP handshake, a client set-up and a teardown each time, on both ends. `LoopSessions`
keeps one state object (clients, sockets) for all calls made inside `session()`. It is keyed by the
running loop: an httpx client or a socket belongs to the loop that opened it, and Dagster may run
each step in its own loop. Calls made outside any session get a state of their own for their
duration, which is what per-call clients did before.

The clients import httpx where they make a call, not at the top: with the command-line extras it
loads (rich, click, pygments) it cost the review service ~50 ms at every start, for routes that
mostly never call out.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
import weakref
from typing import TYPE_CHECKING, AsyncIterator, Awaitable, Callable, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    import httpx


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def http_client(base_url: str, timeout: float | httpx.Timeout) -> httpx.AsyncClient:
    import httpx

    from studio.clients.http_transport import LeanTransport

    # Proxies from the environment still apply: httpx mounts them in front of `transport`.
    https = httpx.AsyncHTTPTransport(verify=_ssl_context())
    return httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=LeanTransport(https))


class Closable(Protocol):
    async def aclose(self) -> None: ...


S = TypeVar("S", bound=Closable)


class LoopSessions(Generic[S]):
    """One shared state per running event loop, alive while any `session()` in that loop is open."""

    def __init__(self) -> None:
        # loop -> [state, number of users]; weak, so a loop closed mid-session does not linger here.
        self._open: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list] = weakref.WeakKeyDictionary()

    def __deepcopy__(self, memo) -> "LoopSessions":
        return LoopSessions()  # open clients and sockets cannot be copied: a copy opens its own

    @contextlib.asynccontextmanager
    async def session(self, make: Callable[[], S]) -> AsyncIterator[S]:
        """The loop's state, made by `make` if none is open; closed when its last user leaves."""
        loop = asyncio.get_running_loop()
        entry = self._open.get(loop)
        if entry is None:
            entry = self._open[loop] = [make(), 0]
        entry[1] += 1
        try:
            yield entry[0]
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                # Forget it before awaiting the close: a call starting meanwhile makes a fresh one.
                if self._open.get(loop) is entry:
                    del self._open[loop]
                await _shielded(entry[0].aclose())


async def _shielded(closing: Awaitable[None]) -> None:
    """Close even when the session ends by cancellation: sockets must not outlive their loop."""
    task = asyncio.ensure_future(closing)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


class HttpClients:
    """Kept-alive httpx clients by base URL: the state an HTTP-only resource shares in a session."""

    def __init__(self, timeout: float | httpx.Timeout):
        self._timeout = timeout
        self._clients: dict[str, httpx.AsyncClient] = {}

    def get(self, base_url: str) -> httpx.AsyncClient:
        if base_url not in self._clients:
            self._clients[base_url] = http_client(base_url, self._timeout)
        return self._clients[base_url]

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        await asyncio.gather(*(client.aclose() for client in clients), return_exceptions=True)
