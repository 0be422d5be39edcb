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


def dataset(tmp_path, images=3, repeats=2, shuffle=False):
    img = tmp_path / "img"
    img.mkdir()
    for i in range(images):
        Image.new("RGB", (64, 64), (40 * i, 90, 200)).save(img / f"{i}.png")
        (img / f"{i}.txt").write_text(f"mika_sts, picture {i}")
    toml = tmp_path / "dataset.toml"
    toml.write_text(dataset_toml(DatasetConfig(image_dir=img, num_repeats=repeats, class_tokens="girl",
                                               resolution=512, shuffle_caption=shuffle)))
    return toml


def train(tmp_path, arch, rank=2, epochs=2, images=3, shuffle=False):
    plan = TrainingPlan(architecture=arch, pretrained_model=tmp_path / "base.safetensors",
                        dataset_config=dataset(tmp_path, images, shuffle=shuffle), output_dir=tmp_path / "out",
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


def test_sdxl_with_shuffled_captions_is_refused_as_kohya_refuses_it(tmp_path):
    plan, done = train(tmp_path, "sdxl", shuffle=True)
    assert done.returncode == 1 and not plan.output_file.exists()
    assert "shuffle_caption" in done.stderr and "caching Text Encoder output" in done.stderr


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


def _modules(shapes: dict) -> dict[str, tuple]:
    return {k.removesuffix(".lora_down.weight"): v for k, v in shapes.items() if k.endswith(".lora_down.weight")}


def test_sdxl_layout_is_the_one_sd_scripts_builds_for_sdxl():
    # What sd-scripts' LoRA network makes of its SDXL U-Net and two text encoders: prefixes lora_unet_,
    # lora_te1_ (CLIP ViT-L) and lora_te2_ (OpenCLIP bigG), module names from the dotted paths with
    # "." -> "_", only Linear (and 1x1 conv) children of the transformer and CLIP attention/MLP blocks.
    shapes = lora_shapes("sdxl", 4, train_text_encoder=True)
    modules = _modules(shapes)
    by_prefix = {p: [m for m in modules if m.startswith(p)] for p in ("lora_unet_", "lora_te1_", "lora_te2_")}
    assert {p: len(m) for p, m in by_prefix.items()} == {"lora_unet_": 722, "lora_te1_": 72, "lora_te2_": 192}
    assert sum(map(len, by_prefix.values())) == len(modules)  # no bare lora_te_ in an SDXL file
    # The U-Net keeps its original block names: transformers at input_blocks 4, 5 (640 wide, depth 2),
    # 7, 8 (1280, depth 10), the middle block and output_blocks 0-2 (1280, 10) and 3-5 (640, 2).
    blocks = {m.split("_proj_")[0].split("_transformer_blocks_")[0] for m in by_prefix["lora_unet_"]}
    assert blocks == {f"lora_unet_{b}" for b in ("input_blocks_4_1", "input_blocks_5_1", "input_blocks_7_1",
                                                  "input_blocks_8_1", "middle_block_1",
                                                  *(f"output_blocks_{i}_1" for i in range(6)))}
    assert "lora_unet_input_blocks_7_1_transformer_blocks_9_ff_net_2" in modules
    assert "lora_unet_input_blocks_4_1_transformer_blocks_2_attn1_to_q" not in modules
    # Linear projections (no 1x1 conv tail), cross-attention from the 2048-wide joint text context.
    assert shapes["lora_unet_middle_block_1_proj_in.lora_down.weight"] == (4, 1280)
    assert shapes["lora_unet_output_blocks_3_1_transformer_blocks_1_attn2_to_k.lora_down.weight"] == (4, 2048)
    assert shapes["lora_unet_input_blocks_4_1_transformer_blocks_0_ff_net_0_proj.lora_up.weight"] == (640 * 8, 4)
    assert shapes["lora_te2_text_model_encoder_layers_31_mlp_fc1.lora_up.weight"] == (5120, 4)
    # Text encoder 1 is SD1.5's CLIP ViT-L: the real SD1.5 run's lora_te_ keys, renamed lora_te1_.
    real = json.loads((FIXTURES / "kohya" / "lora_keys.json").read_text())["tensors"]
    te_real = {k.replace("lora_te_", "lora_te1_", 1): tuple(v["shape"]) for k, v in real.items()
               if k.startswith("lora_te_")}
    assert {k: v for k, v in shapes.items() if k.startswith("lora_te1_")} == te_real
