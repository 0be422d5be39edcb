"""The shot renderer the settings describe, built in one place for the shot_clips asset's resource, the
review service's render status and `studio doctor`: if they differed, a shot's status would say
"changed" where the asset renders nothing new, or the doctor would check other files than a scene needs."""

from __future__ import annotations

from studio.clients.comfyui import ComfyUIClient
from studio.shots.renderers import FramePackShotRenderer, PreviewShotRenderer


def framepack_options(settings) -> dict:
    """The renderer's arguments from the STUDIO_FRAMEPACK_* settings (also the resource's config)."""
    return {"model": settings.framepack_model, "steps": settings.framepack_steps,
            "use_teacache": settings.framepack_teacache, "use_f1": settings.framepack_f1}


def framepack_renderer(settings, comfyui: ComfyUIClient | None) -> FramePackShotRenderer:
    """None for `comfyui` where only the render inputs are read, never a server asked."""
    return FramePackShotRenderer(comfyui, **framepack_options(settings))


def shot_renderer(settings, comfyui: ComfyUIClient | None = None) -> PreviewShotRenderer | FramePackShotRenderer:
    return PreviewShotRenderer() if settings.backend == "preview" else framepack_renderer(settings, comfyui)
