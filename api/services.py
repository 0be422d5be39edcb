"""Where the external services are, as the API sees them: one place that reads their addresses.

The same variables configure the Dagster resources (anime_assets/resources_by_backend.py), so the
health page probes the very servers the pipeline uses. Read on each call: cheap, and a changed
environment (tests, a restarted service on a new port) is seen without rebuilding the app.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from resources.echo import EchoResource

DEFAULT_COMFYUI_URL = "http://127.0.0.1:8188"
DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"
DEFAULT_CHAT_MODEL = "qwen2.5:7b"


@dataclass(frozen=True)
class ServiceUrls:
    comfyui: tuple[str, ...]
    ollama: str
    echo: str  # empty: Echo is not configured (chat falls back to Ollama)
    chat_model: str


def service_urls(env: dict[str, str] | None = None) -> ServiceUrls:
    env = os.environ if env is None else env
    comfyui = env.get("STUDIO_COMFYUI_URLS", DEFAULT_COMFYUI_URL)
    return ServiceUrls(
        comfyui=tuple(u.strip().rstrip("/") for u in comfyui.split(",") if u.strip()),
        ollama=(env.get("STUDIO_OLLAMA_URL") or DEFAULT_OLLAMA_URL).rstrip("/"),
        echo=(env.get("STUDIO_ECHO_URL") or "").strip().rstrip("/"),
        chat_model=env.get("STUDIO_ECHO_MODEL") or DEFAULT_CHAT_MODEL,
    )


def echo_resource(urls: ServiceUrls | None = None) -> EchoResource:
    urls = urls or service_urls()
    return EchoResource(url=urls.echo, ollama_url=urls.ollama, model=urls.chat_model)
