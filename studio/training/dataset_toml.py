"""The dataset config kohya reads (`--dataset_config`): one dataset with one subset per snapshot.

`caption_extension` is set explicitly, in [general] and in the subset: kohya's default is `.caption`,
and a caption it cannot find only warns (training goes on with the class token as the caption).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CAPTION_EXTENSION = ".txt"


@dataclass(frozen=True)
class DatasetConfig:
    image_dir: Path
    num_repeats: int
    class_tokens: str
    resolution: int
    batch_size: int = 1
    enable_bucket: bool = True
    keep_tokens: int = 1  # the trigger word stays first when captions are shuffled
    shuffle_caption: bool = True


def _string(value: str) -> str:
    # A TOML basic string: JSON's escapes are valid TOML escapes.
    return json.dumps(value, ensure_ascii=False)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def dataset_toml(config: DatasetConfig) -> str:
    if not config.image_dir.is_absolute():
        raise ValueError(f"image_dir must be absolute (kohya resolves it from its own folder): {config.image_dir}")
    if config.num_repeats < 1:
        raise ValueError(f"num_repeats must be at least 1, got {config.num_repeats}")
    return "\n".join([
        "[general]",
        f"shuffle_caption = {_bool(config.shuffle_caption)}",
        f"caption_extension = {_string(CAPTION_EXTENSION)}",
        f"keep_tokens = {config.keep_tokens}",
        "",
        "[[datasets]]",
        f"resolution = {config.resolution}",
        f"batch_size = {config.batch_size}",
        f"enable_bucket = {_bool(config.enable_bucket)}",
        "",
        "  [[datasets.subsets]]",
        f"  image_dir = {_string(str(config.image_dir))}",
        f"  num_repeats = {config.num_repeats}",
        f"  caption_extension = {_string(CAPTION_EXTENSION)}",
        f"  class_tokens = {_string(config.class_tokens)}",
        "",
    ])
