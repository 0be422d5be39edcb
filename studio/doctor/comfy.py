"""ComfyUI against what our workflows need: reachable, its node types, its model files.

Used by `studio doctor` and, for one workflow, before every live dataset batch (the generator's
preflight): an error that would repeat for every job is found once, before the first job.
"""

from __future__ import annotations

import httpx

from comfy_graphs.validate import validate_workflow
from studio.clients.comfyui import ComfyUIClient
from studio.clients.comfyui_protocol import ComfyUnreachableError
from studio.domain.comfy_setup import IPADAPTER_RUNTIME_FOLDERS, setup_problems


def unreachable_message(server: str, error: Exception) -> str:
    return str(ComfyUnreachableError(server, str(error) or type(error).__name__))


async def _models(client: ComfyUIClient, server: str) -> dict[str, list[str]]:
    found = {}
    for folder in IPADAPTER_RUNTIME_FOLDERS:
        try:
            found[folder] = await client.models(folder, server)
        except httpx.HTTPStatusError:
            found[folder] = []  # ComfyUI answers 404 for a folder type it does not know
    return found


async def server_problems(client: ComfyUIClient, server: str, workflows: list[dict]) -> list[str]:
    """Lines saying what `server` lacks for these workflows; [] when it can run them all."""
    try:
        object_info = await client.object_info(server)
        models = await _models(client, server)
    except (httpx.ConnectError, httpx.ConnectTimeout) as error:
        return [unreachable_message(server, error)]
    except (httpx.HTTPError, ValueError) as error:
        return [f"ComfyUI at {server} answered GET /object_info with an error ({error}): is it ComfyUI?"]
    problems: list[str] = []
    for workflow in workflows:
        problems += setup_problems(workflow, validate_workflow(workflow, object_info), models, server)
    return list(dict.fromkeys(problems))


async def comfy_problems(client: ComfyUIClient, workflows: list[dict]) -> list[str]:
    problems: list[str] = []
    for server in client.urls:
        problems += await server_problems(client, server, workflows)
    return problems
