"""The project spec: the YAML a creator writes, validated before anything touches the database."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from studio.autonomy.settings import ThresholdChanges
from studio.domain.appearance import Appearance
from studio.domain.shot_keys import SHOT_KEY_PATTERN
from studio.spec.json_types import Integer, Number

Slug = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="lowercase letters, digits and dashes")
# Not blank once stripped: the pattern says so in the JSON schema, for clients that do not strip
# (pydantic strips, then checks the length; the class is the whitespace it strips).
NOT_BLANK = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
Text = Field(min_length=1, pattern=NOT_BLANK)


# Longest text any field takes (names, prompts, descriptions): the bound is in the JSON schema, and a
# 30 MB description is refused naming its field instead of being stored.
TEXT_MAX = 20_000


class _Strict(BaseModel):
    # Numbers are Integer() and Number() (studio/spec/json_types.py): a JSON true is not a LoRA strength
    # of 1.0, nor "25" a number of steps; the spec's JSON schema is the API's too.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, str_max_length=TEXT_MAX)


class ProjectSpec(_Strict):
    slug: str = Slug
    name: str = Text
    description: str = ""
    music: str | None = None  # music bed of every scene that names none: a path under the media root, or a URL


class LoraSpec(_Strict):
    name: str = Text
    strength: Number(ge=0.0, le=2.0) = 1.0


# Values learning may use, within what the style's own fields accept; the JSON schema states them.
CfgValue = Number(ge=0.01, le=30)
StepsValue = Integer(ge=1, le=150)
WeightValue = Number(ge=0, le=2)
Side = Integer(ge=64, le=4096, multiple_of=8)


class SizeSpec(_Strict):
    width: Side = Field(description="image width in pixels")
    height: Side = Field(description="image height in pixels")


class LearningBoundsSpec(_Strict):
    """What learning may try for a style's batches (studio/domain/learning.py); a bound left out is
    taken around the style's own value. A range is two values in either order."""

    cfg: list[CfgValue] | None = Field(None, min_length=2, max_length=2, description="cfg range: two values in either order, each within 0.01 and 30")
    cfg_step: Number(ge=0.1, le=10) | None = Field(None, description="cfg grid step (default 1)")
    steps: list[StepsValue] | None = Field(None, min_length=2, max_length=2, description="sampling steps range: two values in either order, each within 1 and 150")
    steps_step: Integer(ge=1, le=50) | None = Field(None, description="steps grid step (default 5)")
    ipadapter_weight: list[WeightValue] | None = Field(None, min_length=2, max_length=2,
                                                       description="IP-Adapter weight range: two values in either order, each within 0 and 2")
    ipadapter_step: Number(ge=0.05, le=1) | None = Field(None,
                                                         description="IP-Adapter weight grid step (default 0.1)")
    samplers: list[str] | None = Field(None, min_length=1, description="samplers learning may try")
    schedulers: list[str] | None = Field(None, min_length=1, description="schedulers learning may try")
    checkpoints: list[str] | None = Field(None, min_length=1, description="other checkpoints learning may try")
    resolutions: list[SizeSpec] | None = Field(None, min_length=1, description="image sizes learning may try")

    def as_bounds(self) -> dict:
        """As generation_styles.learning_bounds holds them: ranges low first, sizes as `WIDTHxHEIGHT`."""
        bounds = self.model_dump(exclude_none=True)
        for name in ("cfg", "steps", "ipadapter_weight"):
            if name in bounds:
                bounds[name] = sorted(bounds[name])
        if self.resolutions:
            bounds["resolutions"] = [f"{r.width}x{r.height}" for r in self.resolutions]
        return bounds

    @classmethod
    def from_bounds(cls, bounds: dict) -> "LearningBoundsSpec":
        """Back from the stored form (what the API answers is what it takes)."""
        sizes = [dict(zip(("width", "height"), map(int, r.split("x")))) for r in bounds.get("resolutions", [])]
        return cls.model_validate({**bounds, **({"resolutions": sizes} if sizes else {})})


class StyleSpec(_Strict):
    slug: str = Slug
    checkpoint: str = Text
    lora: LoraSpec | None = None
    cfg: Number(ge=0.01, le=30) = 7.0  # a real column: a tinier value would be stored as 0
    steps: Integer(ge=1, le=150) = 25
    sampler: str = "euler"
    scheduler: str = "normal"
    width: Side = 768
    height: Side = 768
    positive_template: str = "{prompt}"
    negative_template: str = ""
    learning_bounds: LearningBoundsSpec | None = Field(
        None, description="what the replenishment sensor's learning may try; left out: around the style's values")


class VoiceSpec(_Strict):
    """How a character sounds (studio/domain/voices.py); what is left out is derived from its slug."""

    voice: str | None = None
    length_scale: Number(gt=0.3, le=3.0) | None = None
    noise_scale: Number(ge=0, le=2.0) | None = None
    noise_w: Number(ge=0, le=2.0) | None = None
    pitch_semitones: Number(ge=-12, le=12) | None = None
    speed: Number(ge=0.25, le=4.0) | None = None
    model: str | None = None


class CharacterSpec(_Strict):
    slug: str = Slug
    name: str = Text
    design_prompt: str = Text
    appearance: Appearance = Field(default_factory=Appearance)
    target_images: Integer(ge=0, le=10_000) = 20
    reference_images: list[str] = Field(default_factory=list)
    voice: VoiceSpec | None = None


class StorylineSpec(_Strict):
    title: str = Text
    logline: str = ""
    summary: str = ""
    themes: list[str] = Field(default_factory=list)
    tone: str = ""


class WorldSpec(_Strict):
    name: str = Text
    era: str = ""
    description: str = ""
    locations: list[str] = Field(default_factory=list)
    rules: list[str] = Field(default_factory=list)


class DialogueLine(_Strict):
    character: str = Slug
    line: str = Text


class ShotSpec(_Strict):
    # The shot's identity (studio/domain/shot_keys.py): its clip follows the key through reordering and
    # re-import. Left out, the key comes from the description.
    key: str | None = Field(None, pattern=SHOT_KEY_PATTERN, description="lowercase letters, digits and dashes")
    description: str = Text
    camera: str = ""
    duration_s: Number(ge=0.01, le=120) = 3.0  # real, CHECK > 0: a tinier value rounds to 0
    characters: list[str] = Field(default_factory=list)
    dialogue: list[DialogueLine] = Field(default_factory=list)


class SceneSpec(_Strict):
    slug: str = Slug
    title: str = Text
    description: str = ""
    location: str = ""
    time_of_day: str = ""
    mood: str = ""
    music: str | None = None
    shots: list[ShotSpec] = Field(min_length=1)


class EpisodeSceneSpec(_Strict):
    scene: str = Slug
    transition: Literal["cut", "fade", "dissolve", "wipe"] = "cut"
    transition_s: Number(ge=0, le=10) = 0.0


class EpisodeSpec(_Strict):
    slug: str = Slug
    number: Integer(ge=1, le=2**31 - 1)  # integer column
    season: Integer(ge=1, le=2**31 - 1) = 1
    title: str = Text
    synopsis: str = ""
    scenes: list[EpisodeSceneSpec] = Field(min_length=1)


class ProjectFile(_Strict):
    project: ProjectSpec
    style: StyleSpec
    characters: list[CharacterSpec] = Field(min_length=1)
    storyline: StorylineSpec
    world: WorldSpec | None = None
    scenes: list[SceneSpec] = Field(default_factory=list)
    episodes: list[EpisodeSpec] = Field(default_factory=list)
    # The project's autonomy thresholds (studio/autonomy/settings.py); what is left out keeps its value.
    autonomy: ThresholdChanges | None = None
