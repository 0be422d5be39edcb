"""ComfyUI against what our workflows need: reachable, its node types, its model files.

Used by `studio doctor` and before the first job of every live dataset batch (the generator's
preflight) and of every scene (the shot renderer's): an error that would repeat for every job is
found once, before the first job. What a server lacks is judged by the pure rules in
studio/domain/comfy_setup.py and framepack_setup.py; here is only the asking.
"""

from __future__ import annotations

import httpx

from comfy_graphs.framepack import FramePackParams
from studio.clients.comfyui import ComfyUIClient
from studio.clients.comfyui_protocol import ComfyUnreachableError
from studio.domain.comfy_setup import IPADAPTER_RUNTIME_FOLDERS, ServerSetup, workflow_problems
from studio.domain.framepack_setup import FramePackCheck, framepack_check


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


async def server_setup(client: ComfyUIClient, server: str) -> ServerSetup | str:
    """What `server` has, or the line saying why it could not be asked."""
    try:
        return ServerSetup(await client.object_info(server), await _models(client, server))
    except (httpx.ConnectError, httpx.ConnectTimeout) as error:
        return unreachable_message(server, error)
    except (httpx.HTTPError, ValueError) as error:
        return f"ComfyUI at {server} answered GET /object_info with an error ({error}): is it ComfyUI?"


async def server_setups(client: ComfyUIClient) -> dict[str, ServerSetup | str]:
    return {server: await server_setup(client, server) for server in client.urls}


def workflows_problems(workflows: list[dict], setup: ServerSetup, server: str) -> list[str]:
    """What `server`, which has `setup`, lacks for these workflows, each line once."""
    return list(dict.fromkeys(line for workflow in workflows for line in workflow_problems(workflow, setup, server)))


async def server_problems(client: ComfyUIClient, server: str, workflows: list[dict]) -> list[str]:
    """Lines saying what `server` lacks for these workflows; [] when it can run them all."""
    setup = await server_setup(client, server)
    if isinstance(setup, str):
        return [setup]
    return workflows_problems(workflows, setup, server)


async def comfy_problems(client: ComfyUIClient, workflows: list[dict]) -> list[str]:
    problems: list[str] = []
    for server in client.urls:
        problems += await server_problems(client, server, workflows)
    return problems


def reachable(setups: dict[str, ServerSetup | str]) -> dict[str, ServerSetup]:
    return {server: setup for server, setup in setups.items() if not isinstance(setup, str)}


async def framepack_problems(client: ComfyUIClient, params: FramePackParams) -> tuple[list[str], FramePackCheck]:
    """Every server against FramePack with `params`: the lines (unreachable servers first) and the check."""
    setups = await server_setups(client)
    check = framepack_check(params, reachable(setups))
    return [setup for setup in setups.values() if isinstance(setup, str)] + check.problems, check
