"""What the ComfyUI servers lack for FramePack shots, said as a person can fix it. Pure: no I/O.

The shot renderer's preflight (studio/shots/renderers.py) and `studio doctor` both judge the servers
with `framepack_check`, so a scene never stops for a reason the doctor could not have named. Any shot
may go to any server (the least busy one), so each server must run the one workflow the renderer builds.
"""

from __future__ import annotations

from dataclasses import dataclass

from comfy_graphs.framepack import FramePackParams, build_framepack_workflow, f1_sampler_node
from studio.domain.comfy_setup import ServerSetup, workflow_problems


@dataclass(frozen=True)
class FramePackCheck:
    by_server: dict[str, list[str]]  # what each server lacks; [] for a server that can render every shot
    across: list[str]  # what the servers get wrong together
    # What the renderer builds its workflow from: the F1 sampler's name and inputs (use_f1), else None.
    object_info: dict | None

    @property
    def problems(self) -> list[str]:
        return [line for lines in self.by_server.values() for line in lines] + self.across


def no_f1_sampler(server: str) -> str:
    return (f"ComfyUI at {server} has no FramePack F1 sampler node, which STUDIO_FRAMEPACK_F1=true needs (the "
            "ComfyUI-FramePackWrapper main branch has none). Install a fork of the wrapper that adds one (a node such "
            "as FramePackSamplerF1) into ComfyUI/custom_nodes and restart ComfyUI, or render without F1 "
            "(STUDIO_FRAMEPACK_F1=false)")


def framepack_check(params: FramePackParams, setups: dict[str, ServerSetup]) -> FramePackCheck:
    """Every server in `setups` against the workflow `params` make."""
    if not params.use_f1:
        workflow = build_framepack_workflow(params)
        return FramePackCheck({server: workflow_problems(workflow, setup, server) for server, setup in setups.items()},
                              [], None)
    samplers = {server: f1_sampler_node(setup.object_info) for server, setup in setups.items()}
    # The renderer sends one workflow to every server: the first server with an F1 sampler shapes it.
    first = next((server for server, node in samplers.items() if node), None)
    reference = setups[first].object_info if first else None
    by_server: dict[str, list[str]] = {}
    for server, setup in setups.items():
        if samplers[server] is None:
            # Still worth saying what else it lacks (the wrapper itself, the model files): one visit fixes all.
            lines = [no_f1_sampler(server)] + workflow_problems(
                build_framepack_workflow(params.model_copy(update={"use_f1": False})), setup, server)
        elif samplers[server] != samplers[first]:
            lines = workflow_problems(build_framepack_workflow(params, setup.object_info), setup, server)
        else:
            lines = workflow_problems(build_framepack_workflow(params, reference), setup, server)
        by_server[server] = list(dict.fromkeys(lines))
    names = {server: node for server, node in samplers.items() if node}
    across = []
    if len(set(names.values())) > 1:
        listed = ", ".join(f"{node} at {server}" for server, node in names.items())
        across.append(f"the ComfyUI servers name their FramePack F1 sampler differently ({listed}): install the same "
                      "fork of ComfyUI-FramePackWrapper on all of them")
    return FramePackCheck(by_server, across, reference)
