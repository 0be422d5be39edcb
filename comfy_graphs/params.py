"""Typed inputs of the workflow builders; invalid values fail here, naming the field."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoraParams(_Params):
    name: str = Field(min_length=1)
    strength_model: float = Field(1.0, ge=-100, le=100)
    strength_clip: float = Field(1.0, ge=-100, le=100)


class IPAdapterReference(_Params):
    """Reference images already uploaded to ComfyUI (names as LoadImage takes them)."""

    images: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    preset: str = "PLUS (high strength)"
    # Seed-system values: 0.7 keeps the character's identity without freezing the pose.
    weight: float = Field(0.7, ge=-1, le=5)
    end_at: float = Field(0.85, ge=0, le=1)


class Txt2ImgParams(_Params):
    checkpoint: str = Field(min_length=1)
    lora: LoraParams | None = None
    positive: str
    negative: str = ""
    seed: int = Field(ge=0, le=2**64 - 1)
    steps: int = Field(25, ge=1, le=10_000)
    cfg: float = Field(7.0, ge=0, le=100)
    sampler_name: str = "euler"
    scheduler: str = "normal"
    width: int = Field(768, ge=16, le=16384, multiple_of=8)
    height: int = Field(768, ge=16, le=16384, multiple_of=8)
    batch_size: int = Field(1, ge=1, le=64)
    filename_prefix: str = Field("anime_studio", min_length=1)
    reference: IPAdapterReference | None = None
