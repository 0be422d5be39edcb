"""Ollama as a Dagster resource: configuration in, an `OllamaClient` out (studio/clients/ollama.py)."""

from __future__ import annotations

import dagster as dg
from pydantic import PrivateAttr

from studio.clients.ollama import OllamaClient


class OllamaResource(dg.ConfigurableResource):
    url: str = "http://127.0.0.1:11434"
    vision_model: str = "qwen2.5vl:7b"
    text_model: str = "qwen2.5:7b"
    num_ctx: int = 8192
    keep_alive: str = "10m"
    timeout_s: float = 300.0

    # One client per resource, so the calls of a batch share its kept-alive session.
    _client: OllamaClient | None = PrivateAttr(default=None)

    def get_client(self) -> OllamaClient:
        if self._client is None:
            self._client = OllamaClient(self.url, vision_model=self.vision_model, text_model=self.text_model,
                                        num_ctx=self.num_ctx, keep_alive=self.keep_alive, timeout_s=self.timeout_s)
        return self._client
