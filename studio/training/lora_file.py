"""Checking a trained LoRA file before it is used: exit 0 is not success (kohya exits 0 with no file
when the dataset is empty, and a kill during a save leaves a truncated file under the final name)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from safetensors import SafetensorError, safe_open


class InvalidLora(RuntimeError):
    pass


@dataclass(frozen=True)
class LoraFileInfo:
    path: Path
    sha256: str
    bytes: int
    tensors: int
    modules: int
    rank: int
    metadata: dict[str, str]


def inspect_lora(path: Path) -> LoraFileInfo:
    """Read the whole file back as safetensors; raise InvalidLora saying what is wrong."""
    if not path.is_file():
        raise InvalidLora(f"the trainer wrote no file {path.name}")
    try:
        ranks = set()
        with safe_open(str(path), framework="numpy") as f:
            keys = list(f.keys())
            metadata = f.metadata() or {}
            for key in keys:
                tensor = f.get_tensor(key)  # reads the data too, so a truncated file fails here
                if key.endswith(".lora_down.weight"):
                    ranks.add(tensor.shape[0])
    except (SafetensorError, OSError, ValueError) as exc:
        raise InvalidLora(f"{path.name} is not a readable safetensors file: {exc}") from None
    if not keys or not ranks:
        raise InvalidLora(f"{path.name} holds no LoRA weights (no .lora_down.weight tensors)")
    if len(ranks) != 1:
        raise InvalidLora(f"{path.name} mixes ranks {sorted(ranks)}")
    return LoraFileInfo(path=path, sha256=file_sha256(path), bytes=path.stat().st_size, tensors=len(keys),
                        modules=sum(k.endswith(".lora_down.weight") for k in keys), rank=ranks.pop(),
                        metadata=dict(metadata))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
