"""What the ComfyUI double has installed: its object_info (from the fixture) and its model folders.

ComfyUI fills a loader's combo input from the files in its model folder, so installing a model
changes object_info too; `install` makes any combo value valid the same way.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "comfyui"
_OBJECT_INFO = json.loads((FIXTURES / "object_info.json").read_text())

# Which loader inputs list which model folder (ComfyUI fills these combos from the folders).
MODEL_INPUTS = {
    "checkpoints": [("CheckpointLoaderSimple", "ckpt_name")],
    "loras": [("LoraLoader", "lora_name"), ("LoraLoaderModelOnly", "lora_name")],
    "vae": [("VAELoader", "vae_name")],
    "clip_vision": [("CLIPVisionLoader", "clip_name")],
    "ipadapter": [("IPAdapterModelLoader", "ipadapter_file")],
    "upscale_models": [("UpscaleModelLoader", "model_name")],
}
# Like a fresh ComfyUI, the double has no IP-Adapter or CLIP-vision files (run13): a test that needs
# them installs them (IPADAPTER_MODELS, or `install_model`), as a person would on the GPU box.
DEFAULT_EXTRA_MODELS: dict[str, list[str]] = {}
IPADAPTER_MODELS = {"ipadapter": ["ip-adapter-plus_sd15.safetensors"],
                    "clip_vision": ["CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors"]}


class ModelCatalog:
    def __init__(self, models: dict[str, list[str]] | None = None):
        self.object_info = copy.deepcopy(_OBJECT_INFO)
        self.models: dict[str, list[str]] = {}
        for folder, loaders in MODEL_INPUTS.items():
            listed = self._options(*loaders[0]) or []
            wanted = (models or {}).get(folder, listed + DEFAULT_EXTRA_MODELS.get(folder, []))
            self.models[folder] = []
            for name in wanted:
                self.install_model(folder, name)
            for class_type, input_name in loaders:
                self._set_options(class_type, input_name, list(self.models[folder]))

    def install_model(self, folder: str, name: str) -> None:
        if name not in self.models.setdefault(folder, []):
            self.models[folder].append(name)
        for class_type, input_name in MODEL_INPUTS.get(folder, []):
            self._set_options(class_type, input_name, list(self.models[folder]))

    def install(self, class_type: str, input_name: str, value: str) -> None:
        """Make `value` valid for a combo input (for a model loader: put the file in its folder)."""
        folder = next((f for f, loaders in MODEL_INPUTS.items() if (class_type, input_name) in loaders), None)
        if folder:
            self.install_model(folder, value)
        elif value not in (options := self._options(class_type, input_name)):
            self._set_options(class_type, input_name, options + [value])

    def _spec(self, class_type: str, input_name: str) -> list:
        inputs = self.object_info[class_type]["input"]
        return inputs.get("required", {}).get(input_name) or inputs["optional"][input_name]

    def _options(self, class_type: str, input_name: str) -> list:
        spec = self._spec(class_type, input_name)
        return list(spec[0]) if isinstance(spec[0], list) else list(spec[1].get("options", []))

    def _set_options(self, class_type: str, input_name: str, options: list) -> None:
        spec = self._spec(class_type, input_name)
        if isinstance(spec[0], list):
            spec[0] = options
        else:
            spec[1]["options"] = options
