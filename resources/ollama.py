"""The Ollama client, as a Dagster resource: vision review and story planning on the GPU box."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import dagster as dg
import httpx

from resources.http import http_client


class OllamaError(RuntimeError):
    pass


class OllamaModelNotFound(OllamaError):
    pass


@dataclass(frozen=True)
class ChatReply:
    content: str
    done_reason: str
    model: str
    total_seconds: float  # Ollama reports nanoseconds

    @property
    def truncated(self) -> bool:
        return self.done_reason == "length"


class OllamaResource(dg.ConfigurableResource):
    url: str = "http://127.0.0.1:11434"
    vision_model: str = "qwen2.5vl:7b"
    text_model: str = "qwen2.5:7b"
    # 4096 (Ollama's default) is too small for an image plus a checklist: answers get cut.
    num_ctx: int = 8192
    keep_alive: str = "10m"
    timeout_s: float = 300.0

    async def chat(self, model: str, messages: list[dict], *, format_schema: dict | None = None,
                   images: list[bytes] | None = None, options: dict | None = None) -> ChatReply:
        messages = [dict(m) for m in messages]
        if images:
            # Raw base64, no data: prefix, on the last user message.
            messages[-1]["images"] = [base64.b64encode(i).decode() for i in images]
        body = {"model": model, "messages": messages, "stream": False, "keep_alive": self.keep_alive,
                "options": {"num_ctx": self.num_ctx, **(options or {})}}
        if format_schema is not None:
            body["format"] = format_schema
        async with http_client(self.url, self.timeout_s) as client:
            try:
                response = await client.post("/api/chat", json=body)
            except httpx.HTTPError as exc:
                raise OllamaError(f"cannot reach Ollama at {self.url}: {type(exc).__name__}") from None
        if response.status_code != 200:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            if response.status_code == 404 and "not found" in message:
                raise OllamaModelNotFound(message)
            raise OllamaError(f"Ollama answered {response.status_code}: {message}")
        reply = response.json()
        if "error" in reply:
            raise OllamaError(reply["error"])
        return ChatReply(content=reply.get("message", {}).get("content", ""),
                         done_reason=reply.get("done_reason", ""), model=reply.get("model", model),
                         total_seconds=reply.get("total_duration", 0) / 1e9)

    async def _get(self, path: str) -> dict:
        async with http_client(self.url, 5.0) as client:
            response = await client.get(path)
            response.raise_for_status()
            return response.json()

    async def ps(self) -> list[dict]:
        """Models loaded on the GPU right now."""
        return (await self._get("/api/ps")).get("models", [])

    async def tags(self) -> list[str]:
        """Installed model names."""
        return [m["name"] for m in (await self._get("/api/tags")).get("models", [])]
