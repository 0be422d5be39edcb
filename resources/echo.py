"""Echo as a Dagster resource: configuration in, an `EchoClient` out (studio/clients/echo.py)."""

from __future__ import annotations

import dagster as dg

from studio.clients.echo import EchoClient


class EchoResource(dg.ConfigurableResource):
    url: str = ""  # empty: not configured, Ollama answers instead
    model: str = "qwen2.5:7b"
    ollama_url: str = "http://127.0.0.1:11434"
    connect_timeout_s: float = 2.0
    timeout_s: float = 120.0

    def get_client(self) -> EchoClient:
        return EchoClient(self.url, model=self.model, ollama_url=self.ollama_url,
                          connect_timeout_s=self.connect_timeout_s, timeout_s=self.timeout_s)
