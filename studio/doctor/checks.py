"""The checks of `studio doctor`: one function per service, each returning lines that say what is
wrong and how to fix it (or that it is fine). A refused connection is "not reachable"."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import httpx

from comfy_graphs.framepack import f1_sampler_node
from studio.clients.comfyui import ComfyUIClient
from studio.clients.ollama import OllamaClient, OllamaError
from studio.datasets import repository
from studio.datasets.generators import ComfyImageGenerator
from studio.datasets.models import GenerationRequest
from studio.dagster_home import dagster_home_dir
from studio.doctor.comfy import reachable, server_setups, workflows_problems
from studio.doctor.pool import read_gpu_pool
from studio.domain.comfy_setup import ServerSetup
from studio.domain.framepack_setup import framepack_check
from studio.domain.gpu_pool import pool_lines
from studio.settings import Settings
from studio.training.active_lora import with_active_lora


@dataclass(frozen=True)
class Line:
    service: str
    ok: bool
    text: str

    def __str__(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.service}: {self.text}"


async def character_workflows(conn: asyncpg.Connection, generator: ComfyImageGenerator) -> list[dict]:
    """The txt2img workflow each character's next batch would send (style, active LoRA, references)."""
    workflows = []
    for slug in [r["slug"] for r in await conn.fetch("SELECT slug FROM characters ORDER BY slug")]:
        character = await repository.load_character(conn, slug)
        style = await with_active_lora(conn, character.id, character.style)
        references = {f"ref_{i}.png": b"" for i, _ in enumerate(character.reference_images)}
        request = GenerationRequest(character=slug, appearance=character.appearance, positive="doctor",
                                    negative="", seed=1, style=style, references=references,
                                    filename_prefix=f"{slug}/doctor")
        workflows.append(generator.workflow_for(request))
    return workflows


async def check_comfyui(settings: Settings, conn: asyncpg.Connection | None) -> list[Line]:
    """Every server against the characters' txt2img workflows (`comfyui` lines) and against the
    FramePack workflow of shots (`framepack` lines), each server asked once."""
    client = ComfyUIClient(settings.comfyui_urls, connect_timeout_s=3.0, request_timeout_s=15.0)
    workflows = await character_workflows(conn, ComfyImageGenerator(client)) if conn is not None else []
    setups = await server_setups(client)
    what = (f"the nodes and model files of {len(workflows)} character(s) are installed" if workflows
            else "reachable; no characters imported yet, so no checkpoint was checked (`studio import SPEC`)")
    lines: list[Line] = []
    for url, setup in setups.items():
        if isinstance(setup, str):
            lines.append(Line("comfyui", False, setup))
            continue
        lines += [Line("comfyui", False, problem) for problem in workflows_problems(workflows, setup, url)] or [
            Line("comfyui", True, f"{url}: {what}")]
    return lines + check_framepack(settings, client, reachable(setups))


def check_framepack(settings: Settings, client: ComfyUIClient, setups: dict[str, ServerSetup]) -> list[Line]:
    """The shot renderer's own preflight, before a scene finds it: same settings, same rule."""
    from studio.shots.factory import framepack_renderer  # numpy and the clip code: only on the live backend

    renderer = framepack_renderer(settings, client)
    check = framepack_check(renderer.check_params(), setups)
    lines: list[Line] = []
    for url, problems in check.by_server.items():
        f1 = f", F1 sampler {f1_sampler_node(setups[url].object_info)}" if renderer.use_f1 else ""
        lines += [Line("framepack", False, problem) for problem in problems] or [
            Line("framepack", True, f"{url}: the nodes and model files of shots are installed ({renderer.model}{f1})")]
    return lines + [Line("framepack", False, problem) for problem in check.across]


async def check_gpu_pool(settings: Settings) -> list[Line]:
    """The Dagster pool every GPU asset runs in: one slot per ComfyUI server."""
    pool = await read_gpu_pool(dagster_home_dir(settings))
    if isinstance(pool, str):
        return [Line("dagster", False, pool)]
    return [Line("dagster", ok, text) for ok, text in pool_lines(pool, len(settings.comfyui_urls))]


async def check_ollama(settings: Settings) -> list[Line]:
    client = OllamaClient(settings.ollama_url, vision_model=settings.vision_model, text_model=settings.text_model)
    try:
        installed = set(await client.tags())
    except OllamaError as error:
        return [Line("ollama", False, f"Ollama at {settings.ollama_url} is not reachable ({error}): start it "
                                      "(`ollama serve`) or point STUDIO_OLLAMA_URL at it")]
    wanted = {"vision review (STUDIO_VISION_MODEL)": settings.vision_model,
              "planning and chat (STUDIO_TEXT_MODEL)": settings.text_model}
    lines = []
    for role, model in wanted.items():
        # "qwen2.5:7b" is installed as itself; a bare name means its ":latest" tag.
        present = model in installed or (":" not in model and f"{model}:latest" in installed)
        lines.append(Line("ollama", present, f"{model} for {role} is pulled" if present else
                          f"model {model} for {role} is not pulled: run `ollama pull {model}` on the GPU box"))
    return lines


async def _reachable(url: str) -> str | None:
    """None when something answers HTTP at `url`, else why not."""
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=3.0), trust_env=False) as http:
            await http.get(url)
        return None
    except httpx.HTTPError as error:
        return str(error) or type(error).__name__


async def check_echo(settings: Settings) -> list[Line]:
    if not settings.echo_url:
        return [Line("echo", True, "not configured: Ollama answers chat and prompt enhancement")]
    why = await _reachable(settings.echo_url + "/api/echo/health")
    if why:
        return [Line("echo", False, f"Echo at {settings.echo_url} is not reachable ({why}): start Echo, or unset "
                                    "STUDIO_ECHO_URL to let Ollama answer instead")]
    return [Line("echo", True, f"{settings.echo_url} answers")]


async def check_tts(settings: Settings) -> list[Line]:
    url = getattr(settings, "tts_url", "")
    if not url:
        return [Line("tts", True, "not configured: scenes are voiced offline")]
    why = await _reachable(url)
    if why:
        return [Line("tts", False, f"TTS at {url} is not reachable ({why}): start it, or unset STUDIO_TTS_URL")]
    return [Line("tts", True, f"{url} answers")]
