"""The README's spec format reference, generated from the spec models (studio/spec/models.py).

Types, defaults and bounds come from the models themselves; what a field means comes from its own
`description` or, where the model has none (or only states a format), from MEANINGS below. A field
with neither is an error, so a field added to the spec cannot go undocumented (tests/test_spec_reference.py
also keeps README.md equal to `spec_reference()`).

    python -c 'from studio.spec.reference import spec_reference; print(spec_reference())'
"""

from __future__ import annotations

import types
import typing
from typing import Literal, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from studio.autonomy.settings import ThresholdChanges
from studio.domain.appearance import HEX_COLOUR
from studio.domain.replenishment import Thresholds
from studio.spec.models import NOT_BLANK, TEXT_MAX, ProjectFile

MEANINGS: dict[str, str] = {
    "ProjectFile.project": "the project: its slug, name and music",
    "ProjectFile.style": "how every image of the project is generated",
    "ProjectFile.characters": "the cast; each gets a dataset, reviewed images and later a LoRA",
    "ProjectFile.storyline": "what the story is about (read by the story planner)",
    "ProjectFile.world": "where and when it happens (read by the story planner)",
    "ProjectFile.scenes": "the scenes, each a list of shots",
    "ProjectFile.episodes": "episodes: scenes in running order, joined with transitions",
    "ProjectFile.autonomy": "limits within which the studio grows datasets with no person; what is left out "
                            "keeps its value (the API's `/api/autonomy/projects/{slug}/settings` changes them too)",
    "ProjectSpec.slug": "the project's id; importing the same slug again updates it",
    "ProjectSpec.name": "shown in the review page and the Jellyfin library",
    "ProjectSpec.description": "free text",
    "ProjectSpec.music": "music bed of every scene that names none: an audio file (relative paths are under the "
                         "media root) or an http(s) URL (fetched only with `STUDIO_MUSIC_URLS_ALLOWED`)",
    "StyleSpec.slug": "the style's id within the project",
    "StyleSpec.checkpoint": "checkpoint file in ComfyUI's `models/checkpoints` (SD1.5 or SDXL)",
    "StyleSpec.lora": "a style LoRA applied to every image",
    "StyleSpec.cfg": "classifier-free guidance scale",
    "StyleSpec.steps": "sampling steps",
    "StyleSpec.sampler": "ComfyUI sampler name (`euler`, `euler_ancestral`, `dpmpp_2m`, ...)",
    "StyleSpec.scheduler": "ComfyUI scheduler name (`normal`, `karras`, ...)",
    "StyleSpec.width": "image width in pixels",
    "StyleSpec.height": "image height in pixels",
    "StyleSpec.positive_template": "the positive prompt; `{prompt}` is replaced by the character's design prompt "
                                   "(without it, the design prompt is appended)",
    "StyleSpec.negative_template": "the negative prompt; each character's errors and negatives are added to it",
    "LoraSpec.name": "LoRA file in ComfyUI's `models/loras`",
    "LoraSpec.strength": "its weight on model and CLIP",
    "ThresholdChanges.enabled": "whether the replenishment sensor requests batches for this project at all",
    "ThresholdChanges.learning_enabled": "whether the sensor's batches pick their generation parameters (cfg, steps, "
                                         "IP-Adapter weight) by what got approved before",
    "CharacterSpec.slug": "the character's id; its images, LoRA and Dagster partition are named by it",
    "CharacterSpec.name": "display name",
    "CharacterSpec.design_prompt": "what the character looks like, as a prompt",
    "CharacterSpec.appearance": "what the reviewer checks and the negatives are built from",
    "CharacterSpec.target_images": "approved images wanted in the dataset; at the target it is complete and "
                                   "ready for training",
    "CharacterSpec.reference_images": "images of the character (paths relative to the spec file), copied into "
                                      "the media root; live generation conditions on them with IP-Adapter",
    "CharacterSpec.voice": "how the character sounds; left out, a voice is derived from the slug",
    "Appearance.species": "free text, e.g. `human` or `dragon — NOT human`; the words \"NOT human\" make the "
                          "character non-human: never auto-approved, species-checked by the reviewer",
    "Appearance.key_colors": f"named colours (`{HEX_COLOUR.pattern}`) the reviewer checks, "
                             "e.g. `{hair: \"#1f2a5c\"}`",
    "Appearance.features": "visible traits the review checklist asks about",
    "Appearance.common_errors": "mistakes generators make for this character: negatives and checklist items",
    "Appearance.negatives": "extra negative prompt terms for this character",
    "VoiceSpec.voice": "piper: the bundled model's name; live TTS: the server's voice name",
    "VoiceSpec.length_scale": "piper: phoneme length, above 1 speaks slower",
    "VoiceSpec.noise_scale": "piper: generator noise (expressiveness)",
    "VoiceSpec.noise_w": "piper: phoneme width noise (rhythm)",
    "VoiceSpec.pitch_semitones": "pitch shift after synthesis, both engines",
    "VoiceSpec.speed": "live TTS: the request's `speed`",
    "VoiceSpec.model": "live TTS: the request's `model`",
    "StorylineSpec.title": "the story's title",
    "StorylineSpec.logline": "one sentence",
    "StorylineSpec.summary": "a paragraph",
    "StorylineSpec.themes": "themes, one per item",
    "StorylineSpec.tone": "free text",
    "WorldSpec.name": "the world's name",
    "WorldSpec.era": "when it happens",
    "WorldSpec.description": "free text",
    "WorldSpec.locations": "places scenes may use",
    "WorldSpec.rules": "rules of the world the story keeps",
    "SceneSpec.slug": "the scene's id and Dagster partition",
    "SceneSpec.title": "shown in the studio page and the episode's chapters",
    "SceneSpec.description": "what happens",
    "SceneSpec.location": "where (one of the world's locations, or free text)",
    "SceneSpec.time_of_day": "free text, e.g. `night`",
    "SceneSpec.mood": "free text, e.g. `tense`",
    "SceneSpec.music": "this scene's music bed (as `project.music`); free text that names no file means the "
                       "project's bed",
    "SceneSpec.shots": "the shots in order",
    "ShotSpec.key": "the shot's id within the scene: its clip follows it through reordering and re-import; "
                    "left out, it comes from the description",
    "ShotSpec.description": "what the shot shows (the keyframe's prompt)",
    "ShotSpec.camera": "framing and movement, e.g. `wide, slow push-in`",
    "ShotSpec.duration_s": "length in seconds (a clip is lengthened to fit its dialogue)",
    "ShotSpec.characters": "slugs of the characters in the shot",
    "ShotSpec.dialogue": "lines spoken in the shot, in order",
    "DialogueLine.character": "slug of the character speaking",
    "DialogueLine.line": "what they say (also the subtitle)",
    "EpisodeSpec.slug": "the episode's id and Dagster partition",
    "EpisodeSpec.number": "episode number within the season",
    "EpisodeSpec.season": "season number",
    "EpisodeSpec.title": "the episode's title",
    "EpisodeSpec.synopsis": "free text (the Jellyfin `.nfo` plot)",
    "EpisodeSpec.scenes": "the scenes in running order",
    "EpisodeSceneSpec.scene": "slug of a scene of this spec",
    "EpisodeSceneSpec.transition": "how this scene begins after the previous one",
    "EpisodeSceneSpec.transition_s": "the transition's length in seconds (0 with `cut`)",
}

# Sections whose None means "keep the current value": their defaults are those of a new project.
DEFAULTS_OF = {ThresholdChanges: Thresholds()}

_BOUND_TEXT = [(annotated_types.Ge, "≥ {}", "ge"), (annotated_types.Gt, "> {}", "gt"),
               (annotated_types.Le, "≤ {}", "le"), (annotated_types.Lt, "< {}", "lt"),
               (annotated_types.MultipleOf, "multiple of {}", "multiple_of")]


def _unwrap(annotation) -> tuple[object, bool]:
    """(the type without None and Annotated's extras such as Strict, whether None is allowed)."""
    optional = False
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        optional = len(args) < len(get_args(annotation))
        annotation = args[0] if len(args) == 1 else typing.Union[tuple(args)]
    if get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    return annotation, optional


def _type_text(annotation) -> str:
    annotation, _ = _unwrap(annotation)
    origin = get_origin(annotation)
    if origin is Literal:
        return " \\| ".join(f"`{v}`" for v in get_args(annotation))
    if origin is list:
        return f"list of {_type_text(get_args(annotation)[0])}"
    if origin is dict:
        key, value = get_args(annotation)
        return f"map of {_type_text(key)} to {_type_text(value)}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "object"
    return {str: "text", int: "integer", float: "number", bool: "true/false"}.get(annotation, str(annotation))


def _optional_metadata(annotation) -> list:
    """The constraints of an optional field's type (`Integer(ge=1) | None`), which stay inside the union."""
    if get_origin(annotation) not in (typing.Union, types.UnionType):
        return []
    inner = [a for a in get_args(annotation) if a is not type(None)]
    if len(inner) != 1 or get_origin(inner[0]) is not typing.Annotated:
        return []
    return [m for item in get_args(inner[0])[1:] for m in (item.metadata if isinstance(item, FieldInfo) else [item])]


def _bounds_text(info: FieldInfo, annotation) -> str:
    parts = []
    for item in [*info.metadata, *_optional_metadata(annotation)]:
        for kind, template, attribute in _BOUND_TEXT:
            if isinstance(item, kind):
                parts.append(template.format(getattr(item, attribute)))
        if isinstance(item, annotated_types.MinLen) and item.min_length:
            parts.append("not empty" if item.min_length == 1 else f"at least {item.min_length} items")
        if isinstance(item, annotated_types.MaxLen):
            parts.append(f"at most {item.max_length}")
        if (pattern := getattr(item, "pattern", None)) == NOT_BLANK:
            parts.append("not blank")
        elif pattern:
            parts.append(f"`{pattern}`")
    if "not blank" in parts and "not empty" in parts:
        parts.remove("not empty")
    if _unwrap(annotation)[0] is str and not any(p.startswith("`") for p in parts):
        parts.append(f"≤ {TEXT_MAX:,} characters")
    return ", ".join(parts)


def _default_text(model: type[BaseModel], name: str, info: FieldInfo) -> str:
    if info.is_required():
        return "**required**"
    if model in DEFAULTS_OF:
        value = getattr(DEFAULTS_OF[model], name, None)
    else:
        value = info.get_default(call_default_factory=True)
    if value is None:
        return "none"
    if value in ("", [], {}):
        return "empty"
    if isinstance(value, BaseModel):
        return "defaults below"
    return f"`{str(value).lower() if isinstance(value, bool) else value}`"


def _meaning(model: type[BaseModel], name: str, info: FieldInfo) -> str:
    # MEANINGS first: a description may only state a format ("lowercase letters, digits and dashes").
    meaning = MEANINGS.get(f"{model.__name__}.{name}") or info.description
    if not meaning:
        raise LookupError(f"{model.__name__}.{name} has no meaning: add it to studio.spec.reference.MEANINGS")
    return meaning


def _nested(annotation) -> tuple[type[BaseModel] | None, bool]:
    """The model a field holds (alone or as list items), and whether it is a list."""
    annotation, _ = _unwrap(annotation)
    if get_origin(annotation) is list:
        inner, _ = _unwrap(get_args(annotation)[0])
        return (inner, True) if isinstance(inner, type) and issubclass(inner, BaseModel) else (None, True)
    return (annotation, False) if isinstance(annotation, type) and issubclass(annotation, BaseModel) else (None, False)


def _sections(model: type[BaseModel], path: str) -> list[tuple[str, type[BaseModel]]]:
    found = [(path, model)]
    for name, info in model.model_fields.items():
        inner, many = _nested(info.annotation)
        if inner is not None:
            child = f"{path}.{name}" if path else name
            found += _sections(inner, child + ("[]" if many else ""))
    return found


def spec_reference() -> str:
    """Markdown: one table per section of the spec, top level first, each field with type, default,
    bounds and meaning."""
    blocks = []
    for path, model in _sections(ProjectFile, ""):
        rows = ["| field | type | default | bounds | meaning |", "| --- | --- | --- | --- | --- |"]
        for name, info in model.model_fields.items():
            rows.append(f"| `{name}` | {_type_text(info.annotation)} | {_default_text(model, name, info)} | "
                        f"{_bounds_text(info, info.annotation)} | {_meaning(model, name, info)} |")
        heading = f"`{path}`" if path else "top level"
        blocks.append(f"**{heading}**\n\n" + "\n".join(rows))
    return "\n\n".join(blocks)

