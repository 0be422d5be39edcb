"""Which shots of a scene must be rendered: the input hash of a shot and the re-render rules.

A shot's picture depends on its start frame (a keyframe when it opens a chain, else the previous
shot's exact last frame), its motion prompt, seed, steps, duration, model and sampler settings.
Dialogue, characters' names and descriptions do not change the picture once the keyframe exists,
so they are not in the hash. A shot is rendered again only when its hash changed or its clip is
gone; a re-rendered shot gives the next shot a new start frame, so the change runs down the chain
until a shot that opens a chain of its own (a cut).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping


@dataclass(frozen=True)
class ShotRenderInputs:
    """Everything a shot's pixels depend on, apart from the start frame."""

    motion_prompt: str
    seed: int
    steps: int
    duration_s: float
    model: str
    # Renderer knobs (sampler, cfg, guidance, window, resolution, preview zoom and pan ...).
    settings: Mapping[str, Any] = field(default_factory=dict)


def shot_input_hash(start_frame_sha256: str, inputs: ShotRenderInputs) -> str:
    if not start_frame_sha256:
        raise ValueError("a shot's input hash needs the hash of its start frame")
    canonical = json.dumps({
        "start_frame": start_frame_sha256, "motion_prompt": inputs.motion_prompt.strip(), "seed": inputs.seed,
        "steps": inputs.steps, "duration_s": round(float(inputs.duration_s), 3), "model": inputs.model,
        "settings": dict(inputs.settings),
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def needs_render(stored_hash: str | None, clip_present: bool, current_hash: str) -> bool:
    """The rule the renderer applies to each shot once its start frame is known."""
    return not clip_present or stored_hash != current_hash


@dataclass(frozen=True)
class ChainShot:
    """One shot as the scene's chain sees it before anything is rendered."""

    key: str
    opens_chain: bool  # the scene's first shot, or one marked as a cut
    inputs: ShotRenderInputs
    keyframe_sha256: str | None  # the start frame of a chain opener, once a keyframe exists
    stored_hash: str | None  # the hash the present clip was rendered from
    clip_present: bool
    last_frame_sha256: str | None  # of the present clip


@dataclass(frozen=True)
class RenderPlan:
    render: tuple[str, ...]  # keys, in scene order
    reasons: Mapping[str, str]

    def __contains__(self, key: str) -> bool:
        return key in self.render


def plan_renders(shots: Iterable[ChainShot]) -> RenderPlan:
    """Shots that a render of the scene would render now, and why, in order.

    A continuing shot whose predecessor is rendered again gets a new start frame: it is counted as
    stale (the renderer itself checks again with the real frame, and skips it if the frame came out
    byte-identical)."""
    render: list[str] = []
    reasons: dict[str, str] = {}
    previous_renders, previous_last = False, None
    first = True
    for shot in shots:
        opens = shot.opens_chain or first
        first = False
        start = shot.keyframe_sha256 if opens else (None if previous_renders else previous_last)
        if start is None:
            reason = "no keyframe yet" if opens else "the previous shot is rendered again"
            if not opens and previous_last is None and not previous_renders:
                reason = "the previous shot has no last frame"
        elif not shot.clip_present:
            reason = "no clip yet" if shot.stored_hash is None else "the clip file is missing"
        elif shot.stored_hash != shot_input_hash(start, shot.inputs):
            reason = "its inputs changed"
        else:
            reason = ""
        if reason:
            render.append(shot.key)
            reasons[shot.key] = reason
        previous_renders, previous_last = bool(reason), shot.last_frame_sha256
    return RenderPlan(tuple(render), reasons)


def gpu_seconds_per_video_second(measured: Iterable[tuple[float, float]], default: float) -> float:
    """Measured (gpu_seconds, video_seconds) pairs to a rate; `default` until something was measured."""
    gpu = video = 0.0
    for gpu_s, video_s in measured:
        if gpu_s is not None and video_s and video_s > 0:
            gpu, video = gpu + gpu_s, video + video_s
    return gpu / video if video > 0 else default


def remaining_seconds(pending_video_seconds: Iterable[float], rate: float) -> float:
    return round(sum(pending_video_seconds) * rate, 1)


def default_seed(scene: str, shot_key: str) -> int:
    """A seed that stays the shot's own across re-imports and reordering (it hangs on the key)."""
    return int.from_bytes(hashlib.sha256(f"{scene}:{shot_key}".encode()).digest()[:4], "big") & 0x7FFFFFFF


def shot_seed(scene: str, shot: Mapping[str, Any]) -> int:
    """The seed a person set, else the shot's default one."""
    return shot["seed"] if shot["seed"] is not None else default_seed(scene, shot["shot_key"])


def opens_chain(shot: Mapping[str, Any], index: int) -> bool:
    """The first shot and a cut start from a keyframe; every other shot from the previous last frame."""
    return index == 0 or bool(shot["cut"])


@dataclass(frozen=True)
class ShotToRender:
    """What a renderer is asked for one shot (its start frame comes separately)."""
    key: str
    shot_type: str
    motion_prompt: str
    seed: int
    duration_s: float
