"""The preview trainer: a small CPU program that stands in for kohya sd-scripts.

It takes kohya's flags, reads the same dataset TOML, prints kohya-style output (the summary and
`epoch N/M` on stdout, tqdm bars separated by `\r` with `avr_loss` on stderr, log records as plain
lines on stdout as with --console_log_simple) and writes a LoRA-format safetensors file with kohya's
key names for the base architecture, in place under `--output_dir` as kohya does. Like kohya it exits
0 with no file when the dataset has no images, so the launcher's checks are exercised by it too.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from studio.training.lora_layout import lora_shapes

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
BASE_VERSIONS = {"sd15": ("sd_v1", "stable-diffusion-v1/lora"),
                 "sdxl": ("sdxl_base_v1-0", "stable-diffusion-xl-v1-base/lora")}
DTYPES = {"fp16": np.float16, "bf16": np.float16, "float": np.float32, "no": np.float32}


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="preview_trainer")
    parser.add_argument("--architecture", choices=sorted(BASE_VERSIONS), required=True)
    parser.add_argument("--pretrained_model_name_or_path", required=True)
    parser.add_argument("--dataset_config", required=True, type=Path)
    parser.add_argument("--output_dir", required=True, type=Path)
    parser.add_argument("--output_name", required=True)
    parser.add_argument("--network_dim", type=int, default=4)
    parser.add_argument("--network_alpha", type=float, default=1.0)
    parser.add_argument("--max_train_epochs", type=int, default=1)
    parser.add_argument("--learning_rate", type=float, default=1e-4)
    parser.add_argument("--save_precision", default="fp16")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--network_train_unet_only", action="store_true")
    parser.add_argument("--cache_text_encoder_outputs", action="store_true")
    # Not kohya's: tests only (STUDIO_PREVIEW_DELAY_S), a training a fault test can kill mid-epoch.
    parser.add_argument("--epoch_delay_s", type=float, default=0.0)
    args, _ignored = parser.parse_known_args(argv)  # kohya flags that change nothing on the CPU
    return args


def _images(config: dict) -> list[tuple[Path, int]]:
    found = []
    for dataset in config.get("datasets", []):
        for subset in dataset.get("subsets", []):
            folder = Path(subset["image_dir"])
            if not folder.is_dir():
                print(f"WARNING  not directory: {folder}", flush=True)
                continue
            repeats = int(subset.get("num_repeats", 1))
            found += [(p, repeats) for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
    return found


def _bar(step: int, total: int, elapsed: float, loss: float | None) -> str:
    filled = int(10 * step / total) if total else 0
    rate = f"{elapsed / step:.2f}s/it" if step else "?it/s"
    postfix = f", avr_loss={loss:.3g}" if loss is not None else ""
    return (f"\rsteps: {int(100 * step / total):3d}%|{'█' * filled}{' ' * (10 - filled)}| {step}/{total} "
            f"[00:{int(elapsed):02d}<00:00, {rate}{postfix}]")


def _refused(args: argparse.Namespace, config: dict) -> str | None:
    """What kohya's SDXL script asserts before training, for the flags and TOML it is given."""
    if not args.cache_text_encoder_outputs:
        return None
    if not args.network_train_unet_only:
        return "network for Text Encoder cannot be trained with caching Text Encoder outputs"
    general = config.get("general", {})
    subsets = [{**general, **dataset, **subset} for dataset in config.get("datasets", [])
               for subset in dataset.get("subsets", [])]
    if any(s.get("shuffle_caption") or s.get("caption_dropout_rate", 0) > 0 or s.get("token_warmup_step", 0) > 0
           or s.get("caption_tag_dropout_rate", 0) > 0 for s in subsets):
        return ("when caching Text Encoder output, either caption_dropout_rate, shuffle_caption, "
                "token_warmup_step or caption_tag_dropout_rate cannot be used")
    return None


def main(argv: list[str] | None = None) -> int:
    args = _args(sys.argv[1:] if argv is None else argv)
    started = time.time()
    config = tomllib.loads(args.dataset_config.read_text())
    refused = _refused(args, config)
    if refused:
        print(f"AssertionError: {refused}", file=sys.stderr, flush=True)
        return 1
    images = _images(config)
    caption_ext = config.get("general", {}).get("caption_extension", ".caption")
    missing = [p for p, _ in images if not p.with_suffix(caption_ext).is_file()]
    if missing:
        print(f"WARNING  No caption file found for {len(missing)} images. Training will continue "
              f"without captions for these images.", flush=True)
    steps_per_epoch = sum(r for _, r in images)
    print(f"{steps_per_epoch} train images with repeats.", flush=True)
    if not steps_per_epoch:
        print("ERROR    No data found. Please verify arguments (train_data_dir must be the parent of "
              "folders with images)", flush=True)
        return 0  # what kohya does: exit 0 and no file
    total = steps_per_epoch * args.max_train_epochs
    print("running training / 学習開始", flush=True)
    print(f"  num train images * repeats / 学習画像の数×繰り返し回数: {steps_per_epoch}", flush=True)
    print(f"  num epochs / epoch数: {args.max_train_epochs}", flush=True)
    print(f"  total optimization steps / 学習ステップ数: {total}", flush=True)
    rng = np.random.default_rng(args.seed)
    err = sys.stderr
    err.write(_bar(0, total, 0.0, None))
    recent: list[float] = []
    loss = None
    step = 0
    for epoch in range(1, args.max_train_epochs + 1):
        print(f"\nepoch {epoch}/{args.max_train_epochs}", flush=True)
        time.sleep(args.epoch_delay_s)
        for _ in range(steps_per_epoch):
            step += 1
            elapsed = time.time() - started
            err.write(_bar(step, total, elapsed, loss))
            step_loss = 0.08 + 0.12 * math.exp(-3 * step / total) + float(rng.normal(0, 0.01))
            recent = (recent + [step_loss])[-steps_per_epoch:]
            loss = sum(recent) / len(recent)
            err.write(_bar(step, total, elapsed, loss))
            err.flush()
    _write_lora(args, len(images), step, started)
    print("model saved.", flush=True)
    err.write(_bar(step, total, time.time() - started, loss) + "\n")
    err.flush()
    return 0


def _write_lora(args: argparse.Namespace, image_count: int, steps: int, started: float) -> None:
    train_te = not args.network_train_unet_only
    shapes = lora_shapes(args.architecture, args.network_dim, train_text_encoder=train_te)
    dtype = DTYPES.get(args.save_precision, np.float32)
    rng = np.random.default_rng(args.seed + 1)
    tensors = {}
    for name, shape in shapes.items():
        if name.endswith(".alpha"):
            tensors[name] = np.array(args.network_alpha, dtype=dtype)
        else:
            scale = 0.01 if "lora_down" in name else 0.001
            tensors[name] = (rng.standard_normal(shape, dtype=np.float32) * scale).astype(dtype)
    version, spec_arch = BASE_VERSIONS[args.architecture]
    metadata = {
        "ss_network_module": "networks.lora", "ss_network_dim": str(args.network_dim),
        "ss_network_alpha": f"{args.network_alpha}", "ss_base_model_version": version,
        "ss_output_name": args.output_name, "ss_num_train_images": str(image_count),
        "ss_epoch": str(args.max_train_epochs), "ss_num_epochs": str(args.max_train_epochs),
        "ss_steps": str(steps), "ss_max_train_steps": str(steps), "ss_seed": str(args.seed),
        "ss_learning_rate": str(args.learning_rate),
        "ss_sd_model_name": Path(args.pretrained_model_name_or_path).name,
        "ss_network_train_unet_only": str(args.network_train_unet_only),
        "ss_training_started_at": str(started), "ss_training_finished_at": str(time.time()),
        "modelspec.architecture": spec_arch, "modelspec.title": args.output_name,
        "studio_backend": "preview",
    }
    args.output_dir.mkdir(parents=True, exist_ok=True)  # kohya creates it at the first save
    print(f"saving checkpoint: {args.output_dir / (args.output_name + '.safetensors')}", flush=True)
    save_file(tensors, str(args.output_dir / f"{args.output_name}.safetensors"), metadata=metadata)


if __name__ == "__main__":
    sys.exit(main())
