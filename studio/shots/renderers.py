"""Shot renderers: what a shot's picture depends on, and how its clip is made.

Both take a start frame and the scene's anchor frame and write a colour-matched H.264 clip; the
scene render (studio/shots/render_scene.py) does not know which one runs. The preview moves a slow
zoom and pan over the start frame with ffmpeg (the seed and motion prompt nudge the move, as they
change a real render); the FramePack renderer runs comfy_graphs/framepack.py through ComfyUI.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from comfy_graphs.framepack import FramePackParams, build_framepack_workflow
from studio.clients.comfyui import ComfyUIClient
from studio.clients.comfyui_protocol import ComfySetupError
from studio.doctor.comfy import framepack_problems
from studio.domain.motion_presets import motion_preset, motion_prompt_for
from studio.domain.shot_rendering import ShotRenderInputs, ShotToRender
from studio.media.clips import colour_matched_copy, preview_clip


@dataclass(frozen=True)
class RenderedClip:
    backend: str
    gpu_seconds: float
    duration_s: float
    prompt_id: str | None = None


class PreviewShotRenderer:
    backend = "preview"
    # What a preview clip costs on the GPU it stands in for: nothing; the ETA uses measured time.
    default_gpu_seconds_per_video_second = 0.5

    def __init__(self, width: int = 512, height: int = 288, fps: float = 24.0, delay_s: float = 0.0):
        self.width, self.height, self.fps = width, height, fps
        self.delay_s = delay_s  # tests only (STUDIO_PREVIEW_DELAY_S): a shot a fault test can kill mid-way

    async def preflight(self) -> None:
        """Nothing to ask of a server: ffmpeg is all it needs."""

    def _move(self, shot: ShotToRender) -> tuple[float, tuple[float, float]]:
        preset = motion_preset(shot.shot_type)
        digest = hashlib.sha256(f"{shot.seed}:{motion_prompt_for(shot.shot_type, shot.motion_prompt)}".encode()).digest()
        zoom = round(preset.zoom + digest[0] / 255 * 0.03, 4)
        pan = (round(preset.pan[0] + (digest[1] / 255 - 0.5) * 0.02, 4),
               round(preset.pan[1] + (digest[2] / 255 - 0.5) * 0.02, 4))
        return zoom, pan

    def render_inputs(self, shot: ShotToRender, anchor_sha256: str) -> ShotRenderInputs:
        zoom, pan = self._move(shot)
        return ShotRenderInputs(
            motion_prompt=motion_prompt_for(shot.shot_type, shot.motion_prompt), seed=shot.seed, steps=1,
            duration_s=shot.duration_s, model="preview-ken-burns-1",
            settings={"fps": self.fps, "zoom": zoom, "pan": list(pan), "anchor": anchor_sha256})

    async def render(self, shot: ShotToRender, start_frame: Path, anchor: Path, out: Path,
                     log: logging.Logger) -> RenderedClip:
        zoom, pan = self._move(shot)
        started = time.monotonic()
        await asyncio.sleep(self.delay_s)
        frames = await asyncio.to_thread(preview_clip, start_frame, out, duration_s=shot.duration_s, fps=self.fps,
                                         zoom=zoom, pan=pan, anchor=anchor)
        return RenderedClip("preview", round(time.monotonic() - started, 3), round(frames / self.fps, 3))


class FramePackShotRenderer:
    backend = "comfyui"
    # DESIGN §6: 2-12 GPU minutes per second of video on a 12 GB card; the ETA uses this until measured.
    default_gpu_seconds_per_video_second = 300.0

    def __init__(self, comfyui: ComfyUIClient, *, model: str, steps: int = 30, base_resolution: int = 640,
                 use_teacache: bool = False, use_f1: bool = False):
        self.comfyui, self.model, self.steps = comfyui, model, steps
        self.base_resolution, self.use_teacache, self.use_f1 = base_resolution, use_teacache, use_f1
        self.object_info: dict | None = None  # with an F1 sampler, once `preflight` found one (use_f1)
        self._checked = False

    async def preflight(self) -> None:
        """Before the first shot, once: every server the jobs may go to has the FramePack nodes and model
        files (and, for `use_f1`, an F1 sampler node), or the scene stops here saying what to install."""
        if self._checked:
            return
        problems, check = await framepack_problems(self.comfyui, self.check_params())
        if problems:
            raise ComfySetupError(problems)
        self.object_info = check.object_info
        self._checked = True

    def check_params(self) -> FramePackParams:
        """What the servers are checked against (here and by `studio doctor`): every shot's workflow needs
        the same nodes and model files as this one."""
        return self.params(ShotToRender("preflight", "medium", "", 0, 1.0), "preflight.png", "preflight")

    def params(self, shot: ShotToRender, start_image: str, prefix: str) -> FramePackParams:
        return FramePackParams(model=self.model, start_image=start_image, base_resolution=self.base_resolution,
                               motion_prompt=motion_prompt_for(shot.shot_type, shot.motion_prompt), seed=shot.seed,
                               steps=self.steps, duration_s=shot.duration_s, use_teacache=self.use_teacache,
                               use_f1=self.use_f1, filename_prefix=prefix)

    def render_inputs(self, shot: ShotToRender, anchor_sha256: str) -> ShotRenderInputs:
        params = self.params(shot, "start.png", "x")
        settings = params.model_dump(exclude={"start_image", "filename_prefix", "motion_prompt", "seed", "steps",
                                              "duration_s", "model"})
        return ShotRenderInputs(motion_prompt=params.motion_prompt, seed=shot.seed, steps=self.steps,
                                duration_s=shot.duration_s, model=self.model,
                                settings={**settings, "anchor": anchor_sha256})

    async def render(self, shot: ShotToRender, start_frame: Path, anchor: Path, out: Path,
                     log: logging.Logger) -> RenderedClip:
        data = start_frame.read_bytes()
        # Content-addressed upload name: the same frame is the same file on the server, never "name (1)".
        name = f"shot_start_{hashlib.sha256(data).hexdigest()[:16]}.png"
        params = self.params(shot, name, f"anime_studio/shots/{shot.key}")
        await self.preflight()
        workflow = build_framepack_workflow(params, self.object_info)
        run = await self.comfyui.run(workflow, images={name: data}, log=log)
        videos = [o for o in run.outputs if o.kind == "gifs"]
        if not videos:
            raise RuntimeError(f"ComfyUI prompt {run.prompt_id} finished without a video")
        raw = out.with_name(f".{out.stem}.{os.getpid()}.comfy.mp4")
        out.parent.mkdir(parents=True, exist_ok=True)
        data = await self.comfyui.download(run, videos[0])
        try:
            raw.write_bytes(data)  # inside: a full disk must not leave a cut-off download behind
            frames = await asyncio.to_thread(colour_matched_copy, raw, anchor, out)
        finally:
            raw.unlink(missing_ok=True)
        return RenderedClip("comfyui", run.gpu_seconds, round(frames / 30, 3), run.prompt_id)
