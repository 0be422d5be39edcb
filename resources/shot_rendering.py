"""Which shot renderer the shot assets use, as Dagster resources; the renderers themselves are plain
code in studio/shots/renderers.py."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from resources.comfyui import ComfyUIResource
from studio.shots.factory import framepack_options
from studio.shots.renderers import FramePackShotRenderer, PreviewShotRenderer


class ShotRendererResource(dg.ConfigurableResource):
    """The interface the shot assets depend on; `shot_resources` picks one implementation by backend."""

    # Keyframes drawn from appearance data are allowed only where no real image generator runs.
    allow_drawn_keyframes: bool = True
    keyframe_width: int = 512
    keyframe_height: int = 288

    def get_client(self) -> PreviewShotRenderer | FramePackShotRenderer:
        raise NotImplementedError


class PreviewShotRendererResource(ShotRendererResource):
    fps: float = 24.0
    delay_s: float = 0.0  # tests only: STUDIO_PREVIEW_DELAY_S

    def get_client(self) -> PreviewShotRenderer:
        return PreviewShotRenderer(width=self.keyframe_width, height=self.keyframe_height, fps=self.fps,
                                   delay_s=self.delay_s)


class FramePackShotRendererResource(ShotRendererResource):
    comfyui: ComfyUIResource
    model: str = Field("FramePackI2V_HY_bf16.safetensors", description="in ComfyUI's models/diffusion_models")
    steps: int = 30
    base_resolution: int = 640
    use_teacache: bool = Field(False, description="faster and lossy: for drafts")
    use_f1: bool = Field(False, description="only on a server whose object_info has an F1 sampler node")

    def get_client(self) -> FramePackShotRenderer:
        return FramePackShotRenderer(self.comfyui.get_client(), model=self.model, steps=self.steps,
                                     base_resolution=self.base_resolution, use_teacache=self.use_teacache,
                                     use_f1=self.use_f1)


def shot_resources(backend: str, settings) -> dict:
    if backend == "preview":
        return {"shot_renderer": PreviewShotRendererResource(delay_s=settings.preview_delay_s)}
    # The settings become config (shown in the UI, overridable per run), which get_client builds from.
    return {"shot_renderer": FramePackShotRendererResource(
        comfyui=ComfyUIResource(urls=list(settings.comfyui_urls)), allow_drawn_keyframes=False,
        keyframe_width=640, keyframe_height=360, **framepack_options(settings))}
