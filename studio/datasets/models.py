"""What a dataset batch asks of an image generator and what it gets back."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from studio.domain.appearance import Appearance


class StyleParams(BaseModel):
    """The generation style of a project, as stored in generation_styles."""

    checkpoint: str
    lora_name: str | None = None
    lora_strength: float = 1.0
    cfg: float = 7.0
    steps: int = 25
    sampler: str = "euler"
    scheduler: str = "normal"
    width: int = 768
    height: int = 768
    positive_template: str = "{prompt}"
    negative_template: str = ""


class CharacterContext(BaseModel):
    """Everything a batch needs to know about one character."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: int
    slug: str
    name: str
    design_prompt: str
    appearance: Appearance
    target_images: int
    style: StyleParams
    # Paths relative to the media root.
    reference_images: list[str] = Field(default_factory=list)


class GenerationRequest(BaseModel):
    character: str
    appearance: Appearance
    positive: str
    negative: str
    seed: int
    style: StyleParams
    # Reference images as bytes keyed by a content name, for IP-Adapter.
    references: dict[str, bytes] = Field(default_factory=dict)
    # Unique per job: ComfyUI answers an identical graph from cache with the OLD file.
    filename_prefix: str


class GeneratedImage(BaseModel):
    data: bytes
    seed: int
    backend: str
    checkpoint: str | None = None
    lora: str | None = None
    workflow_hash: str | None = None
    comfy_prompt_id: str | None = None
    gpu_seconds: float | None = None
