"""Resources keyed by backend: `preview` runs on the CPU, `live` talks to the GPU services.

Everything comes from the one settings class (studio/settings.py), read once when the Definitions
load; several ComfyUI servers, one per GPU, are a list. No secret is put into a resource's config
(the Dagster UI shows config): the database URL and the Vault token are read where they are used.
"""

from __future__ import annotations

from resources.comfyui import ComfyUIResource
from resources.database import StudioDatabase
from resources.image_generation import ComfyImageGeneratorResource, PreviewImageGeneratorResource
from resources.jellyfin import jellyfin_resources
from resources.image_review import PreviewImageReviewerResource, VisionImageReviewerResource
from resources.lora_trainer import training_resources
from resources.ollama import OllamaResource
from resources.scene_sound import scene_sound_resources
from resources.shot_rendering import shot_resources
from resources.studio_config import StudioConfig
from studio.settings import Settings, load_settings


def build_resources(backend: str | None = None, settings: Settings | None = None) -> dict:
    settings = settings or load_settings()
    backend = backend or settings.backend
    common = {"database": StudioDatabase(), "studio": StudioConfig(backend=backend, home=str(settings.home))}
    common.update(training_resources(backend, settings))
    common.update(shot_resources(backend, settings))
    common.update(scene_sound_resources(settings))
    common.update(jellyfin_resources(settings))
    if backend == "preview":
        return {**common, "image_generator": PreviewImageGeneratorResource(delay_s=settings.preview_delay_s),
                "image_reviewer": PreviewImageReviewerResource(delay_s=settings.preview_delay_s)}
    ollama = OllamaResource(url=settings.ollama_url, vision_model=settings.vision_model,
                            text_model=settings.text_model)
    return {
        **common,
        "image_generator": ComfyImageGeneratorResource(comfyui=ComfyUIResource(urls=list(settings.comfyui_urls))),
        "image_reviewer": VisionImageReviewerResource(ollama=ollama),
    }
