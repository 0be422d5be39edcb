"""Request and response models of the story routes.

Field rules (slug pattern, text not empty, ranges, Appearance) are the project spec's own
(studio.spec.models): a value the API accepts is one an import accepts, and the other way round.
Slugs are not editable: they are Dagster partition keys and media folder names.
"""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, create_model

from api.schemas.base import ApiModel
from api.schemas.bounds import Position
from studio.domain.appearance import Appearance
from studio.spec.models import (CharacterSpec, DialogueLine, EpisodeSceneSpec, EpisodeSpec, LearningBoundsSpec, LoraSpec,
                                ProjectSpec, SceneSpec, ShotSpec, StorylineSpec, StyleSpec, WorldSpec)


def spec_rule(spec: type[BaseModel], name: str) -> Any:
    """The spec field's type with its constraints, without its default (for optional/PATCH use)."""
    info = spec.model_fields[name]
    return Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation


def spec_field(spec: type[BaseModel], name: str) -> Any:
    """The spec field whole (constraints and default), to be the default of a request field."""
    return spec.model_fields[name]


def patch_model(name: str, fields: dict[str, Any]) -> type[BaseModel]:
    """A PATCH body: every field optional and unset by default, but an explicit null is refused
    unless the type allows None (NOT NULL columns), because defaults are not validated."""
    return create_model(name, __config__=ProjectSpec.model_config,
                        **{field: (rule, Field(None)) for field, rule in fields.items()})


def spec_patch(name: str, spec: type[BaseModel], fields: tuple[str, ...]) -> type[BaseModel]:
    return patch_model(name, {field: spec_rule(spec, field) for field in fields})


SlugRule = spec_rule(ProjectSpec, "slug")


class _Request(BaseModel):
    model_config = ProjectSpec.model_config  # extra fields refused, whitespace stripped


class _Stamped(ApiModel):
    created_at: datetime
    updated_at: datetime


# -- projects, styles, storyline, world ---------------------------------------------------------

ProjectCreate = ProjectSpec
ProjectUpdate = spec_patch("ProjectUpdate", ProjectSpec, ("name", "description"))


class ProjectOut(_Stamped):
    slug: str
    name: str
    description: str
    characters: int
    scenes: int
    episodes: int


StyleCreate = StyleSpec
StyleUpdate = spec_patch("StyleUpdate", StyleSpec, tuple(f for f in StyleSpec.model_fields if f != "slug"))


class StyleOut(_Stamped):
    slug: str
    checkpoint: str
    lora: LoraSpec | None
    cfg: float
    steps: int
    sampler: str
    scheduler: str
    width: int
    height: int
    positive_template: str
    negative_template: str
    learning_bounds: LearningBoundsSpec | None = None


StorylineIn = StorylineSpec
WorldIn = WorldSpec


class StorylineOut(StorylineSpec, _Stamped):
    pass


class WorldOut(WorldSpec, _Stamped):
    pass


# -- characters -----------------------------------------------------------------------------------

class CharacterCreate(_Request):
    project: SlugRule
    slug: SlugRule
    name: str = spec_field(CharacterSpec, "name")
    design_prompt: str = spec_field(CharacterSpec, "design_prompt")
    appearance_data: Appearance = Field(default_factory=Appearance)
    target_images: int = spec_field(CharacterSpec, "target_images")
    # A style slug of the same project; omitted: the project's first style; null: none.
    style: SlugRule | None = None


CharacterUpdate = patch_model("CharacterUpdate", {
    "name": spec_rule(CharacterSpec, "name"),
    "design_prompt": spec_rule(CharacterSpec, "design_prompt"),
    "appearance_data": Appearance,
    "target_images": spec_rule(CharacterSpec, "target_images"),
    "style": SlugRule | None,
})


class CharacterOut(_Stamped):
    slug: str
    project: str
    name: str
    design_prompt: str
    appearance_data: Appearance
    target_images: int
    style: str | None
    reference_images: list[str]


class ReferenceAdded(ApiModel):
    index: int
    path: str  # relative to the media root
    reference_images: list[str]


# -- scenes and shots -------------------------------------------------------------------------------

class ShotCreate(ShotSpec):
    # Where the shot goes (1 = first); omitted: after the last shot.
    position: Position | None = None


ShotUpdate = spec_patch("ShotUpdate", ShotSpec, tuple(ShotSpec.model_fields))


class ShotOut(_Stamped):
    id: int
    position: int
    description: str
    camera: str
    duration_s: float
    characters: list[str]
    dialogue: list[DialogueLine]
    status: str
    clip_path: str | None
    last_frame_path: str | None
    seed: int | None
    input_hash: str | None
    gpu_seconds: float | None
    # Render settings (edited through /api/scenes/{slug}/shots/{key}/render, api/routers/shots.py).
    shot_key: str
    shot_type: str
    motion_prompt: str
    cut: bool
    rendered_duration_s: float | None


class SceneCreate(_Request):
    project: SlugRule
    slug: SlugRule
    title: str = spec_field(SceneSpec, "title")
    description: str = ""
    location: str = ""
    time_of_day: str = ""
    mood: str = ""
    music: str | None = None
    shots: list[ShotSpec] = Field(default_factory=list)  # unlike a spec, a new scene may start empty


SceneUpdate = spec_patch("SceneUpdate", SceneSpec,
                         ("title", "description", "location", "time_of_day", "mood", "music"))


class SceneOut(_Stamped):
    slug: str
    project: str
    title: str
    description: str
    location: str
    time_of_day: str
    mood: str
    music: str | None
    shot_count: int


class SceneDetail(SceneOut):
    shots: list[ShotOut]
    episodes: list[str]  # slugs of the episodes that use the scene


# -- episodes ---------------------------------------------------------------------------------------

EpisodeSceneIn = EpisodeSceneSpec


class EpisodeCreate(_Request):
    project: SlugRule
    slug: SlugRule
    number: int = spec_field(EpisodeSpec, "number")
    season: int = spec_field(EpisodeSpec, "season")
    title: str = spec_field(EpisodeSpec, "title")
    synopsis: str = ""
    scenes: list[EpisodeSceneSpec] = Field(default_factory=list)


EpisodeUpdate = spec_patch("EpisodeUpdate", EpisodeSpec, ("number", "season", "title", "synopsis"))


class EpisodeSceneOut(EpisodeSceneSpec):
    position: int


class EpisodeOut(_Stamped):
    slug: str
    project: str
    number: int
    season: int
    title: str
    synopsis: str
    scenes: list[EpisodeSceneOut]
