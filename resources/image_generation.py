"""Which image generator a dataset batch uses, as Dagster resources; the generators themselves are
plain code in studio/datasets/generators.py."""

from __future__ import annotations

import dagster as dg

from resources.comfyui import ComfyUIResource
from studio.datasets import generators


class ImageGeneratorResource(dg.ConfigurableResource):
    """The interface assets depend on; the definitions pick one implementation by backend."""

    def get_client(self) -> generators.PreviewImageGenerator | generators.ComfyImageGenerator:
        raise NotImplementedError


class PreviewImageGeneratorResource(ImageGeneratorResource):
    max_side: int = 512
    delay_s: float = 0.0  # tests only: STUDIO_PREVIEW_DELAY_S

    def get_client(self) -> generators.PreviewImageGenerator:
        return generators.PreviewImageGenerator(max_side=self.max_side, delay_s=self.delay_s)


class ComfyImageGeneratorResource(ImageGeneratorResource):
    comfyui: ComfyUIResource
    ipadapter_preset: str = "PLUS (high strength)"

    def get_client(self) -> generators.ComfyImageGenerator:
        return generators.ComfyImageGenerator(self.comfyui.get_client(), ipadapter_preset=self.ipadapter_preset)
