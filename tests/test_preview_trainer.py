"""The preview trainer writes a LoRA that the `safetensors` library reads, with kohya's key names,
the stated rank, and kohya-style output that the launcher's parser understands."""

import json
import subprocess
import sys

import pytest
from PIL import Image
from safetensors import safe_open

from studio.training.dataset_toml import DatasetConfig, dataset_toml
from studio.training.kohya_command import TrainingPlan, preview_command
from studio.training.kohya_output import KohyaOutputParser, TrainingProgress
from studio.training.lora_file import InvalidLora, inspect_lora
from studio.training.lora_layout import lora_shapes
from tests.conftest import FIXTURES


def dataset(tmp_path, images=3, repeats=2):
    img = tmp_path / "img"
    img.mkdir()
    for i in range(images):
        Image.new("RGB", (64, 64), (40 * i, 90, 200)).save(img / f"{i}.png")
        (img / f"{i}.txt").write_text(f"mika_sts, picture {i}")
    toml = tmp_path / "dataset.toml"
    toml.write_text(dataset_toml(DatasetConfig(image_dir=img, num_repeats=repeats, class_tokens="girl",
                                               resolution=512)))
    return toml


def train(tmp_path, arch, rank=2, epochs=2, images=3):
    plan = TrainingPlan(architecture=arch, pretrained_model=tmp_path / "base.safetensors",
                        dataset_config=dataset(tmp_path, images), output_dir=tmp_path / "out",
                        output_name="mika_v1", rank=rank, alpha=1, epochs=epochs)
    done = subprocess.run(preview_command(plan, python=sys.executable), capture_output=True, text=True,
                          timeout=60)
    return plan, done


def test_sd15_preview_lora_has_exactly_kohyas_key_layout(tmp_path):
    plan, done = train(tmp_path, "sd15", rank=4)
    assert done.returncode == 0, done.stderr
    real = json.loads((FIXTURES / "kohya" / "lora_keys.json").read_text())["tensors"]
    with safe_open(str(plan.output_file), framework="numpy") as f:
        shapes = {k: list(f.get_slice(k).get_shape()) for k in f.keys()}
        meta = f.metadata()
    assert shapes == {k: v["shape"] for k, v in real.items()}  # the real sd-scripts run's file
    assert meta["ss_network_dim"] == "4" and meta["ss_base_model_version"] == "sd_v1"
    assert meta["studio_backend"] == "preview"


def test_sdxl_preview_lora_is_unet_only_at_the_stated_rank_and_its_output_parses(tmp_path):
    plan, done = train(tmp_path, "sdxl", rank=2, epochs=2, images=3)
    assert done.returncode == 0, done.stderr
    info = inspect_lora(plan.output_file)
    assert info.rank == 2 and info.modules == 722
    assert set(lora_shapes("sdxl", 2, train_text_encoder=False)) == set(safe_open(str(plan.output_file), "numpy").keys())
    assert info.metadata["modelspec.architecture"] == "stable-diffusion-xl-v1-base/lora"
    parser, progress = KohyaOutputParser(), TrainingProgress(epochs=2)
    for event in parser.feed("stdout", done.stdout) + parser.feed("stderr", done.stderr) + parser.close():
        progress.add(event)
    assert progress.total_steps == 3 * 2 * 2 and progress.last_step == 12
    assert len(progress.loss_by_epoch()) == 2 and progress.model_saved


def test_empty_dataset_exits_0_with_no_file_like_kohya_and_the_check_says_so(tmp_path):
    plan, done = train(tmp_path, "sd15", images=0)
    assert done.returncode == 0 and "No data found" in done.stdout
    with pytest.raises(InvalidLora, match="wrote no file"):
        inspect_lora(plan.output_file)


def test_truncated_file_is_refused(tmp_path):
    plan, done = train(tmp_path, "sd15", rank=2)
    data = plan.output_file.read_bytes()
    plan.output_file.write_bytes(data[: len(data) // 3])
    with pytest.raises(InvalidLora, match="not a readable safetensors"):
        inspect_lora(plan.output_file)
