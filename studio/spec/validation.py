"""Turning a YAML file into a checked ProjectFile, or into errors that name file, field and reason."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from studio.domain.shot_keys import duplicate_keys, shot_keys
from studio.spec.models import ProjectFile


class SpecError(ValueError):
    def __init__(self, file: Path, problems: list[tuple[str, str]]):
        self.file = file
        self.problems = problems
        super().__init__("\n".join(f"{file}: {where}: {why}" for where, why in problems))


def field_path(loc: tuple) -> str:
    """('characters', 1, 'appearance', 'species') -> 'characters[1].appearance.species'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def load_spec(path: Path) -> ProjectFile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(path, [("(file)", "no such file")]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SpecError(path, [("(file)", f"not valid YAML: {exc}".replace("\n", " "))]) from None
    if not isinstance(raw, dict):
        raise SpecError(path, [("(top level)", "expected a mapping of project, style, characters, ...")])
    try:
        spec = ProjectFile.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(path, [(field_path(e["loc"]), e["msg"]) for e in exc.errors()]) from None
    problems = cross_reference_problems(spec, path.parent)
    if problems:
        raise SpecError(path, problems)
    return spec


def _duplicates(slugs: list[str], collection: str) -> list[tuple[str, str]]:
    seen: set[str] = set()
    problems = []
    for i, slug in enumerate(slugs):
        if slug in seen:
            problems.append((f"{collection}[{i}].slug", f"duplicate slug {slug!r}"))
        seen.add(slug)
    return problems


def cross_reference_problems(spec: ProjectFile, base_dir: Path) -> list[tuple[str, str]]:
    problems = []
    problems += _duplicates([c.slug for c in spec.characters], "characters")
    problems += _duplicates([s.slug for s in spec.scenes], "scenes")
    problems += _duplicates([e.slug for e in spec.episodes], "episodes")
    characters = {c.slug for c in spec.characters}
    scenes = {s.slug for s in spec.scenes}

    for ci, character in enumerate(spec.characters):
        for ri, ref in enumerate(character.reference_images):
            if not (base_dir / ref).is_file():
                problems.append((f"characters[{ci}].reference_images[{ri}]", f"no file {ref!r}"))
    for si, scene in enumerate(spec.scenes):
        keys = shot_keys((shot.key, shot.description) for shot in scene.shots)
        for hi, key in duplicate_keys(keys):
            problems.append((f"scenes[{si}].shots[{hi}].key" if scene.shots[hi].key else f"scenes[{si}].shots[{hi}]",
                             f"shot key {key!r} is already used by an earlier shot of this scene"))
        for hi, shot in enumerate(scene.shots):
            where = f"scenes[{si}].shots[{hi}]"
            for k, slug in enumerate(shot.characters):
                if slug not in characters:
                    problems.append((f"{where}.characters[{k}]", f"unknown character {slug!r}"))
            for k, line in enumerate(shot.dialogue):
                if line.character not in shot.characters:
                    problems.append(
                        (f"{where}.dialogue[{k}].character", f"{line.character!r} is not in this shot")
                    )
    numbers: set[tuple[int, int]] = set()
    for ei, episode in enumerate(spec.episodes):
        if (episode.season, episode.number) in numbers:
            problems.append((f"episodes[{ei}].number", f"duplicate episode number {episode.number}"))
        numbers.add((episode.season, episode.number))
        used: set[str] = set()
        for k, entry in enumerate(episode.scenes):
            if entry.scene not in scenes:
                problems.append((f"episodes[{ei}].scenes[{k}].scene", f"unknown scene {entry.scene!r}"))
            elif entry.scene in used:
                problems.append((f"episodes[{ei}].scenes[{k}].scene", f"scene {entry.scene!r} twice"))
            used.add(entry.scene)
    return problems
