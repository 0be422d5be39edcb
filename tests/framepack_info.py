"""object_info of a ComfyUI with FramePack's model files installed (tests/fixtures/framepack_installed.json)."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path

from PIL import Image

from studio.media.clips import preview_clip
from tests.doubles.comfyui import ComfyUIDouble

COMFY_FIXTURES = Path(__file__).resolve().parents[2] / "shared/fixtures/comfyui"
INSTALLED = json.loads((Path(__file__).with_name("fixtures") / "framepack_installed.json").read_text())
BASE_OBJECT_INFO = json.loads((COMFY_FIXTURES / "object_info.json").read_text())
FRAMEPACK_MODEL = INSTALLED["installed"]["LoadFramePackModel.model"][0]


def installed_models() -> list[tuple[str, str, str]]:
    """(class_type, input, file) for every model file the FramePack box has."""
    return [(*key.split("."), name) for key, names in INSTALLED["installed"].items() for name in names]


def f1_sampler(object_info: dict) -> tuple[str, dict]:
    """The node a fork's F1 sampler adds, as its object_info entry, made from the main sampler's."""
    f1 = INSTALLED["f1_sampler"]
    node = copy.deepcopy(object_info[f1["copy_of"]])
    for name in f1["drop_optional"]:
        node["input"]["optional"].pop(name, None)
    node["name"] = node["display_name"] = f1["name"]
    return f1["name"], node


def framepack_object_info(*, with_f1: bool = False) -> dict:
    info = copy.deepcopy(BASE_OBJECT_INFO)
    for class_type, input_name, name in installed_models():
        spec = info[class_type]["input"]["required"][input_name]
        spec[0] = [*spec[0], name]
    if with_f1:
        name, node = f1_sampler(info)
        info[name] = node
    return info


def framepack_double(*, with_f1: bool = False) -> ComfyUIDouble:
    """A ComfyUI double with FramePack's models installed (and a fork's F1 sampler node when asked),
    answering FramePack prompts with a real mp4."""
    double = ComfyUIDouble()
    double.render_video = framepack_video(double)
    for class_type, input_name, name in installed_models():
        double.install(class_type, input_name, name)
    if with_f1:
        name, node = f1_sampler(double.object_info)
        double.object_info[name] = node  # what GET /object_info answers and POST /prompt validates against
    return double


def framepack_video(double):
    """The double's FramePack output: a real mp4 from the uploaded start frame, at the bucket's size."""

    def render(workflow: dict, prompt_id: str, index: int) -> bytes:
        start = double.input_dir / workflow["start_image"]["inputs"]["image"]
        seconds = workflow["sampler"]["inputs"]["total_second_length"]
        with tempfile.TemporaryDirectory() as tmp:
            with Image.open(start) as image:
                bucket = image.resize((image.width // 16 * 16, image.height // 16 * 16))
                bucket.save(Path(tmp) / "start.png")
            preview_clip(Path(tmp) / "start.png", Path(tmp) / "out.mp4", duration_s=seconds, fps=30, zoom=1.05,
                         pan=(0.02, 0.0))
            return (Path(tmp) / "out.mp4").read_bytes()

    return render
