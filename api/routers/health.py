"""`GET /api/health`: the database and the external services, each probed briefly and concurrently.

Never a 500 because something is down: every probe has a short timeout and reports its own failure.
Each service says `status`: ok | error | not used | not configured. In preview mode ComfyUI and Ollama
are not used by the pipeline, so they are listed but not probed.
Echo is probed whenever it is configured (the /echo routes use it in either mode).
"""

from __future__ import annotations

import asyncio

import asyncpg
from fastapi import APIRouter

from api.deps import AppSettings, Echo, Pool
from studio.clients.comfyui import ComfyUIClient
from studio.clients.echo import EchoClient
from studio.clients.ollama import OllamaClient

router = APIRouter(prefix="/api", tags=["health"])

PROBE_TIMEOUT_S = 1.5


async def _database(pool: asyncpg.Pool) -> str:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            await pool.fetchval("SELECT 1")
        return "ok"
    except Exception:  # any failure of the probe is the answer, not an error of this route
        return "error"


def _comfyui_server(url: str, stats: dict) -> dict:
    if "error" in stats:
        return {"url": url, "status": "error", "ok": False, "error": stats["error"][:200]}
    devices = [{"name": d.get("name"), "type": d.get("type"), "index": d.get("index"),
                "vram_total": d.get("vram_total"), "vram_free": d.get("vram_free")} for d in stats.get("devices", [])]
    return {"url": url, "status": "ok", "ok": True,
            "version": stats.get("system", {}).get("comfyui_version"),
            "vram_total": sum(d["vram_total"] or 0 for d in devices),
            "vram_free": sum(d["vram_free"] or 0 for d in devices),
            "devices": devices}


async def _comfyui(urls: tuple[str, ...]) -> list[dict]:
    if not urls:
        return []
    resource = ComfyUIClient(list(urls), connect_timeout_s=PROBE_TIMEOUT_S)
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S + 0.5):
            stats = await resource.system_stats()
    except TimeoutError:
        stats = {url: {"error": "timed out"} for url in urls}
    return [_comfyui_server(url, stats[url]) for url in urls]


async def _ollama(url: str) -> dict:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            models = await OllamaClient(url).ps()
    except Exception as exc:
        return {"url": url, "status": "error", "ok": False, "error": str(exc)[:200] or type(exc).__name__}
    return {"url": url, "status": "ok", "ok": True,
            "loaded_models": [{"name": m.get("name"), "size_vram": m.get("size_vram"),
                               "expires_at": m.get("expires_at")} for m in models]}


async def _echo(echo: EchoClient) -> dict:
    if not echo.configured:
        return {"url": None, "status": "not configured", "ok": None}
    ok = await echo.healthy(PROBE_TIMEOUT_S)
    return {"url": echo.url, "status": "ok" if ok else "error", "ok": ok}


@router.get("/health")
async def health(pool: Pool, settings: AppSettings, echo_client: Echo) -> dict:
    live = settings.backend == "live"
    database, comfyui, ollama, echo = await asyncio.gather(
        _database(pool),
        _comfyui(settings.comfyui_urls) if live else _not_used_list(settings.comfyui_urls),
        _ollama(settings.ollama_url) if live else _not_used(settings.ollama_url),
        _echo(echo_client),
    )
    return {"backend": settings.backend, "database": database, "comfyui": comfyui, "ollama": ollama, "echo": echo}


async def _not_used(url: str) -> dict:
    return {"url": url, "status": "not used", "ok": None}


async def _not_used_list(urls: tuple[str, ...]) -> list[dict]:
    return [await _not_used(url) for url in urls]
