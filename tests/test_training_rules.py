"""The pure rules of LoRA training: repeats, snapshot identity, captions, base architecture, the gate,
the dataset TOML and the trainer command lines."""

import tomllib
from pathlib import Path

import pytest

from studio.domain.appearance import Appearance
from studio.domain.base_model import base_architecture
from studio.domain.captions import build_caption, trigger_word
from studio.domain.lora_training import SnapshotEntry, num_repeats, sample_gate, snapshot_hash
from studio.domain.review import ChecklistItem
from studio.training.dataset_toml import DatasetConfig, dataset_toml
from studio.training.kohya_command import KohyaInstall, TrainingPlan, live_command, preview_command


@pytest.mark.parametrize("count, repeats", [(1, 20), (5, 20), (10, 10), (12, 9), (30, 4), (100, 1), (500, 1)])
def test_num_repeats_stretches_small_datasets_within_bounds(count, repeats):
    assert num_repeats(count) == repeats


def test_num_repeats_refuses_an_empty_dataset():
    with pytest.raises(ValueError, match="image_count"):
        num_repeats(0)


def test_snapshot_hash_changes_with_any_image_byte_or_caption_but_not_with_order():
    a, b = SnapshotEntry(1, "aa", "mika_sts, solo"), SnapshotEntry(2, "bb", "mika_sts")
    base = snapshot_hash([a, b])
    assert snapshot_hash([b, a]) == base
    assert snapshot_hash([a]) != base
    assert snapshot_hash([a, SnapshotEntry(2, "bc", "mika_sts")]) != base
    assert snapshot_hash([a, SnapshotEntry(2, "bb", "mika_sts, solo")]) != base


def test_caption_has_trigger_first_and_leaves_out_what_the_review_found_missing():
    look = Appearance(species="human", key_colors={"hair": "#1f2a5c"}, features=["freckles", "yellow raincoat"])
    caption = build_caption(trigger_word("mika"), look,
                            [ChecklistItem(item="has yellow raincoat", passed=False),
                             ChecklistItem(item="has freckles", passed=True)], solo=True)
    assert caption == "mika_sts, solo, human, dark blue hair, freckles"
    assert build_caption("x_sts", Appearance(species="dragon — NOT human")).split(", ") == ["x_sts", "dragon"]


@pytest.mark.parametrize("checkpoint, arch", [
    ("animagine-xl-3.1.safetensors", "sdxl"), ("sd_xl_base_1.0.safetensors", "sdxl"),
    ("ponyDiffusionV6XL.safetensors", "sdxl"), ("illustrious_v1.safetensors", "sdxl"),
    ("v1-5-pruned-emaonly.safetensors", "sd15"), ("anything-v5.safetensors", "sd15"),
    ("xlnt_mix.safetensors", "sd15"),
])
def test_base_architecture_from_the_checkpoint_name(checkpoint, arch):
    assert base_architecture(checkpoint) == arch


def test_declared_architecture_wins_and_is_checked():
    assert base_architecture("anything.safetensors", "sdxl") == "sdxl"
    with pytest.raises(ValueError, match="base_architecture"):
        base_architecture("x", "flux")


def test_sample_gate_first_then_only_strictly_better():
    assert sample_gate(0.2, None, has_active=False).activate
    assert sample_gate(0.7, 0.6, has_active=True).activate
    assert not sample_gate(0.6, 0.6, has_active=True).activate
    assert not sample_gate(0.5, 0.6, has_active=True).activate
    assert not sample_gate(None, None, has_active=False).activate


def test_dataset_toml_is_what_kohya_reads(tmp_path):
    text = dataset_toml(DatasetConfig(image_dir=tmp_path / "img", num_repeats=9, class_tokens='say "hi"',
                                      resolution=1024))
    config = tomllib.loads(text)
    assert config["general"]["caption_extension"] == ".txt"
    [dataset] = config["datasets"]
    [subset] = dataset["subsets"]
    assert dataset["resolution"] == 1024
    assert subset == {"image_dir": str(tmp_path / "img"), "num_repeats": 9, "caption_extension": ".txt",
                      "class_tokens": 'say "hi"'}
    with pytest.raises(ValueError, match="image_dir"):
        dataset_toml(DatasetConfig(image_dir=Path("img"), num_repeats=1, class_tokens="x", resolution=512))


def _plan(arch, **kw):
    return TrainingPlan(architecture=arch, pretrained_model=Path("/m/base.safetensors"),
                        dataset_config=Path("/d/dataset.toml"), output_dir=Path("/o/tmp"), output_name="mika_v1",
                        rank=8, alpha=4, epochs=10, **kw)


def test_sdxl_command_uses_the_sdxl_script_and_caches_text_encoders_only_with_unet_only():
    command = live_command(_plan("sdxl"), KohyaInstall(sd_scripts_dir=Path("/k"), accelerate="/v/bin/accelerate"))
    assert command[:2] == ["/v/bin/accelerate", "launch"]
    assert "/k/sdxl_train_network.py" in command and "/k/train_network.py" not in command
    assert "--cache_text_encoder_outputs" in command and "--network_train_unet_only" in command
    flags = dict(zip(command, command[1:]))
    assert flags["--save_model_as"] == "safetensors" and flags["--network_module"] == "networks.lora"
    assert flags["--network_dim"] == "8" and flags["--output_dir"] == "/o/tmp"


def test_sd15_command_trains_the_text_encoder_too():
    command = live_command(_plan("sd15"), KohyaInstall(sd_scripts_dir=Path("/k")))
    assert "/k/train_network.py" in command
    assert "--cache_text_encoder_outputs" not in command and "--network_train_unet_only" not in command


def test_preview_command_takes_the_same_flags_and_a_relative_model_path_is_refused():
    live = live_command(_plan("sdxl"), KohyaInstall(sd_scripts_dir=Path("/k")))
    preview = preview_command(_plan("sdxl"), python="/py")
    assert preview[:3] == ["/py", "-m", "studio.training.preview_trainer"]
    assert set(a for a in preview if a.startswith("--")) - {"--architecture"} <= set(live)
    with pytest.raises(ValueError, match="pretrained_model"):
        preview_command(TrainingPlan(architecture="sd15", pretrained_model=Path("base.safetensors"),
                                     dataset_config=Path("/d.toml"), output_dir=Path("/o"), output_name="x",
                                     rank=4, alpha=1, epochs=1))
