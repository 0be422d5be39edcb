"""Health: liveness, readiness, and the overview `GET /api/health`.

- `GET /api/health/live`: the process answers; no auth, no database (a restart is the only cure for a no).
- `GET /api/health/ready`: every probe of `READINESS_PROBES`, concurrently, each bounded by
  `PROBE_TIMEOUT_S`; 503 when a part that is required in this configuration is not ok. Another check
  (e.g. the Dagster daemon's heartbeat) is one `add_readiness_probe(Probe(...))`.
- `GET /api/health`: the database and the external services in detail; 503 when the database is down.

Never a 500 because something is down: every probe has a short timeout and reports its own failure.
Each service says `status`: ok | error | not used | not configured. In preview mode ComfyUI and Ollama
are not used by the pipeline, so they are listed but not probed.
Echo is probed whenever it is configured (the /echo routes use it in either mode).
"""

import asyncio
from dataclasses import dataclass
from typing import Awaitable, Callable

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import AppSettings, Echo, Pool
from api.lazy_route import LazyAPIRoute
from api.routers.episode_media import jellyfin_probe
from studio.clients.echo import EchoClient
from studio.clients.ollama import OllamaClient
from studio.settings import Settings

router = APIRouter(prefix="/api", tags=["health"], route_class=LazyAPIRoute)
# Liveness answers without auth (api/app.py includes this router outside the protected ones).
public_router = APIRouter(prefix="/api", tags=["health"], route_class=LazyAPIRoute)

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
    # Imported when probed (live mode only): httpx and websockets are not part of the service's start.
    from studio.clients.comfyui import ComfyUIClient

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


@router.get("/health", responses={503: {"description": "the database is down (the body says what else)"}})
async def health(pool: Pool, settings: AppSettings, echo_client: Echo) -> JSONResponse:
    live = settings.backend == "live"
    database, comfyui, ollama, echo = await asyncio.gather(
        _database(pool),
        _comfyui(settings.comfyui_urls) if live else _not_used_list(settings.comfyui_urls),
        _ollama(settings.ollama_url) if live else _not_used(settings.ollama_url),
        _echo(echo_client),
    )
    body = {"backend": settings.backend, "database": database, "comfyui": comfyui, "ollama": ollama, "echo": echo}
    return JSONResponse(body, status_code=200 if database == "ok" else 503)


# -- liveness and readiness ---------------------------------------------------------------------

@dataclass(frozen=True)
class Probe:
    """One readiness check: `check(pool, settings)` answers a dict with `status` ("ok", "error",
    "not used", "not configured") and anything else worth showing; `required(settings)` says whether
    the service is unready when it is not ok."""

    name: str
    check: Callable[[asyncpg.Pool, Settings], Awaitable[dict]]
    required: Callable[[Settings], bool]


def _always(settings: Settings) -> bool:
    return True


def _when_live(settings: Settings) -> bool:
    return settings.backend == "live"


def _never(settings: Settings) -> bool:
    return False


async def _database_probe(pool: asyncpg.Pool, settings: Settings) -> dict:
    return {"status": await _database(pool)}


async def _comfyui_probe(pool: asyncpg.Pool, settings: Settings) -> dict:
    if not _when_live(settings):
        return {"status": "not used"}
    servers = await _comfyui(settings.comfyui_urls)
    up = [s["url"] for s in servers if s["ok"]]
    return {"status": "ok" if up else "error", "servers": len(servers), "up": len(up)}


async def _ollama_probe(pool: asyncpg.Pool, settings: Settings) -> dict:
    if not _when_live(settings):
        return {"status": "not used"}
    answer = await _ollama(settings.ollama_url)
    return {"status": answer["status"], **({"error": answer["error"]} if "error" in answer else {})}


async def _dagster_webserver_probe(pool: asyncpg.Pool, settings: Settings) -> dict:
    import httpx  # when probed, not at start-up (studio/clients/http.py says why)

    base = settings.dagster_graphql_url.removesuffix("/graphql")
    try:
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_S) as client:
            response = await client.get(f"{base}/server_info")
        return {"status": "ok" if response.status_code == 200 else "error"}
    except httpx.HTTPError as exc:
        return {"status": "error", "error": type(exc).__name__}


def _when_jellyfin_configured(settings: Settings) -> bool:
    return bool(settings.jellyfin_url)


async def _jellyfin_probe(pool: asyncpg.Pool, settings: Settings) -> dict:
    """Without a Jellyfin URL episodes are still published as files; with one, nobody would be told of
    them while it is down, so it is required then."""
    state = await jellyfin_probe(settings)
    if not state["configured"]:
        return {"status": "not configured"}
    if not state["reachable"]:
        return {"status": "error", "error": state.get("error", "")[:200]}
    return {"status": "ok", "version": state.get("version")}


READINESS_PROBES: list[Probe] = [
    Probe("database", _database_probe, _always),
    Probe("comfyui", _comfyui_probe, _when_live),
    Probe("ollama", _ollama_probe, _when_live),
    Probe("dagster_webserver", _dagster_webserver_probe, _never),
    Probe("jellyfin", _jellyfin_probe, _when_jellyfin_configured),
]


def add_readiness_probe(probe: Probe) -> None:
    READINESS_PROBES.append(probe)


async def _bounded(probe: Probe, pool: asyncpg.Pool, settings: Settings) -> dict:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S + 0.5):
            answer = await probe.check(pool, settings)
    except TimeoutError:
        answer = {"status": "error", "error": "timed out"}
    except Exception as exc:  # a failing probe is an answer, not an error of this route
        answer = {"status": "error", "error": type(exc).__name__}
    return {**answer, "required": probe.required(settings)}


@public_router.get("/health/live")
async def liveness() -> dict:
    return {"status": "alive"}


@router.get("/health/ready", responses={503: {"description": "a required part is down"}})
async def readiness(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    probes = list(READINESS_PROBES)
    answers = await asyncio.gather(*(_bounded(p, request.app.state.pool, settings) for p in probes))
    checks = {probe.name: answer for probe, answer in zip(probes, answers)}
    ready = all(c["status"] == "ok" for c in checks.values() if c["required"])
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


async def _not_used(url: str) -> dict:
    return {"url": url, "status": "not used", "ok": None}


async def _not_used_list(urls: tuple[str, ...]) -> list[dict]:
    return [await _not_used(url) for url in urls]
