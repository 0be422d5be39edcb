"""What a dataset batch asks of an image generator and what it gets back."""

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


DEFAULT_IPADAPTER_WEIGHT = 0.7  # the seed system's reference weight


class BatchParameters(BaseModel):
    """One batch's departures from the style, chosen by learning or a correction (studio/autonomy).

    Unset fields keep the style's value; `provenance` (arm, strategy, why) is recorded with the batch."""

    checkpoint: str | None = None
    cfg: float | None = None
    steps: int | None = Field(None, ge=1)
    sampler: str | None = None
    scheduler: str | None = None
    width: int | None = Field(None, ge=64, multiple_of=8)
    height: int | None = Field(None, ge=64, multiple_of=8)
    ipadapter_weight: float | None = None
    extra_negatives: list[str] = Field(default_factory=list)
    provenance: dict = Field(default_factory=dict)

    def apply(self, style: "StyleParams") -> "StyleParams":
        fields = ("checkpoint", "cfg", "steps", "sampler", "scheduler", "width", "height")
        return style.model_copy(update={f: getattr(self, f) for f in fields if getattr(self, f) is not None})

    @property
    def ipadapter_weight_or_default(self) -> float:
        return DEFAULT_IPADAPTER_WEIGHT if self.ipadapter_weight is None else self.ipadapter_weight


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
    ipadapter_weight: float = DEFAULT_IPADAPTER_WEIGHT
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
