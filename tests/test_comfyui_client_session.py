"""The ComfyUI client's session: the jobs of a batch share one HTTP client and one websocket per server.

ComfyUI routes execution messages by clientId only, so a shared socket must still bring every job its
own completion, survive a drop (reopened with the same clientId, the poll covering the gap), and
belong to one event loop at a time (Dagster may run each step in a loop of its own).
"""

import asyncio
import json
import logging

import httpx
import pytest

from studio.clients.comfyui_connection import PromptWatch, ServerLink
from tests.doubles.comfyui import ComfyUIDouble
from tests.test_comfyui_client import client, workflow

pytestmark = pytest.mark.timeout(30)


async def _open_sockets(comfy: ComfyUIDouble) -> int:
    return len(comfy.sockets)


def open_sockets(comfy: ComfyUIDouble) -> int:
    return comfy._server.call(_open_sockets(comfy))


async def _drop_sockets(comfy: ComfyUIDouble) -> None:
    await asyncio.gather(*(ws.close() for ws in list(comfy.sockets.values())))


async def test_the_jobs_of_a_session_share_one_socket_and_it_closes_with_the_session():
    with ComfyUIDouble(job_seconds=0.05) as comfy:
        comfy_client = client(comfy.url, poll_interval_s=30.0)  # so only the socket can finish them quickly
        async with comfy_client.session():
            runs = await asyncio.gather(*(comfy_client.run(workflow(seed=s)) for s in range(5)))
            for run in runs:
                assert await comfy_client.download(run, run.outputs[0])
            assert await asyncio.to_thread(open_sockets, comfy) == 1
        assert len({r.prompt_id for r in runs}) == 5 and all(r.attempts == 1 for r in runs)
        assert comfy.requests["GET /ws"] == 1 and comfy.requests["GET /queue"] == 0
        assert len({prompt["client_id"] for prompt in comfy.posted_prompts}) == 1
        for _ in range(50):  # the server notices the close a moment later
            if not await asyncio.to_thread(open_sockets, comfy):
                break
            await asyncio.sleep(0.02)
        assert await asyncio.to_thread(open_sockets, comfy) == 0


async def test_a_shared_socket_dropped_mid_batch_is_reopened_and_every_job_finishes():
    with ComfyUIDouble(job_seconds=0.1) as comfy:
        comfy_client = client(comfy.url, poll_interval_s=0.5)
        async with comfy_client.session():
            jobs = [asyncio.create_task(comfy_client.run(workflow(seed=s))) for s in range(8)]
            while len(comfy.jobs) < 2:
                await asyncio.sleep(0.01)
            await asyncio.to_thread(comfy._server.call, _drop_sockets(comfy))
            runs = await asyncio.gather(*jobs)
            assert await asyncio.to_thread(open_sockets, comfy) == 1
        assert all(r.outputs and r.attempts == 1 for r in runs) and len(comfy.jobs) == 8
        assert comfy.requests["POST /prompt"] == 8  # a drop loses messages, never prompts
        assert comfy.requests["GET /ws"] == 2  # opened again at once, with the same clientId
        assert len({prompt["client_id"] for prompt in comfy.posted_prompts}) == 1
        # The last jobs ran after the reopening: the socket, not the poll, told them they were done.
        last = comfy.posted_prompts[-1]["prompt_id"]
        assert any(m["type"] == "executing" and m["data"] == {"node": None, "prompt_id": last}
                   for _, m in comfy.sent)


def test_one_resource_serves_one_event_loop_after_another():
    with ComfyUIDouble() as comfy:
        comfy_client = client(comfy.url)

        async def step(seed: int):
            async with comfy_client.session():
                run = await comfy_client.run(workflow(seed=seed))
                return await comfy_client.download(run, run.outputs[0])

        assert asyncio.run(step(1)) and asyncio.run(step(2))  # each step's loop is closed after it
        assert asyncio.run(step(3))
        assert comfy.requests["GET /ws"] == 3 and len(comfy.jobs) == 3


async def test_frames_are_routed_by_prompt_id_and_odd_ones_ignored():
    async def no_socket(server, client_id):
        return None

    link = ServerLink("http://gpu", httpx.AsyncClient(), no_socket, retry_s=1.0)
    mine, other = (PromptWatch(p, {}, logging.getLogger("t"), 10.0) for p in ("p1", "p2"))
    with link.watching(mine), link.watching(other):
        for raw in ("not json", "[1, 2]", '{"type": "status", "data": {"status": {}}}', '{"data": 3}',
                    json.dumps({"type": "executing", "data": {"node": None, "prompt_id": "p1"}})):
            link._dispatch(raw)
        assert mine.socket_says_finished.is_set() and not other.socket_says_finished.is_set()
    assert not link.watches
    await link.aclose()


async def test_frames_of_unwatched_types_are_dropped_unread_and_other_shapes_still_decoded():
    async def no_socket(server, client_id):
        return None

    link = ServerLink("http://gpu", httpx.AsyncClient(), no_socket, retry_s=1.0)
    watch = PromptWatch("p1", {}, logging.getLogger("t"), 10.0)
    seen = []
    watch.on_message = seen.append
    with link.watching(watch):
        for kind in ("status", "progress_state", "executed", "execution_cached", "execution_start", "progress"):
            link._dispatch(json.dumps({"type": kind, "data": {"prompt_id": "p1"}}))
        # Not ComfyUI's framing (compact, data first, an escaped type): decoded, then routed as before.
        link._dispatch('{"type":"executing","data":{"node":null,"prompt_id":"p1"}}')
        link._dispatch('{"data": {"prompt_id": "p1"}, "type": "execution_success"}')
        link._dispatch('{"type": "executin\\u0067", "data": {"node": null, "prompt_id": "p1"}}')
    assert [m["type"] for m in seen] == ["execution_start", "progress", "executing", "execution_success",
                                         "executing"]
    await link.aclose()
