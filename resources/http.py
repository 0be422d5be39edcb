"""HTTP clients for the service resources.

httpx builds a fresh SSL context (loading the CA bundle, ~20 ms) for every AsyncClient unless it
is given one; with per-call clients that alone was most of the per-image overhead. One context is
made per process and shared.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def http_client(base_url: str, timeout: float | httpx.Timeout) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, timeout=timeout, verify=_ssl_context())
