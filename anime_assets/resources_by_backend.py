"""Resources keyed by backend: `preview` runs on the CPU, `live` talks to the GPU services.

Service addresses come from the environment (never secrets in run config); several ComfyUI
servers, one per GPU, are a comma-separated list.
"""

import os

from resources.comfyui import ComfyUIResource
from resources.database import StudioDatabase
from resources.image_generation import ComfyImageGenerator, PreviewImageGenerator
from resources.image_review import PreviewImageReviewer, VisionImageReviewer
from resources.ollama import OllamaResource
from resources.studio_config import StudioConfig


def build_resources(backend: str | None = None) -> dict:
    studio = StudioConfig.from_env()
    backend = backend or studio.backend
    common = {"database": StudioDatabase(), "studio": studio}
    if backend == "preview":
        return {**common, "image_generator": PreviewImageGenerator(), "image_reviewer": PreviewImageReviewer()}
    comfy_urls = [u.strip() for u in os.environ.get("STUDIO_COMFYUI_URLS", "http://127.0.0.1:8188").split(",")]
    ollama = OllamaResource(url=os.environ.get("STUDIO_OLLAMA_URL", "http://127.0.0.1:11434"),
                            vision_model=os.environ.get("STUDIO_VISION_MODEL", "qwen2.5vl:7b"))
    return {
        **common,
        "image_generator": ComfyImageGenerator(comfyui=ComfyUIResource(urls=[u for u in comfy_urls if u])),
        "image_reviewer": VisionImageReviewer(ollama=ollama),
    }

