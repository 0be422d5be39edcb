"""Whether a proposed scene breakdown can be used: the rules an LLM answer (or a person's edit) must meet.

Each problem is one sentence that names where it is (`scenes[1].shots[0].characters[0]`) and what
would be right, so the list can go back to the model as it is.
"""

from __future__ import annotations

from typing import Any, Iterable

from studio.domain.motion_presets import SHOT_TYPES

MIN_SHOT_S, MAX_SHOT_S = 1.0, 12.0
# Shot durations of a scene must add up to its target within this share (or half a second).
DURATION_TOLERANCE = 0.1
SCENE_TEXT_FIELDS = ("title", "description", "location", "time_of_day", "weather", "mood")
SHOT_TEXT_FIELDS = ("camera_angle", "first_frame", "motion_prompt")


def duration_tolerance_s(target_s: float) -> float:
    return max(0.5, DURATION_TOLERANCE * target_s)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _check_text(where: str, item: dict, name: str, errors: list[str], required: bool = True) -> None:
    value = item.get(name)
    if not isinstance(value, str) or (required and not value.strip()):
        errors.append(f"{where}.{name}: must be a non-empty text")


def _check_shot(where: str, shot: Any, cast: set[str], errors: list[str]) -> float:
    if not isinstance(shot, dict):
        errors.append(f"{where}: must be an object")
        return 0.0
    if shot.get("shot_type") not in SHOT_TYPES:
        errors.append(f"{where}.shot_type: {shot.get('shot_type')!r} is not a shot type; "
                      f"use one of {', '.join(SHOT_TYPES)}")
    for name in SHOT_TEXT_FIELDS:
        _check_text(where, shot, name, errors)
    duration = _number(shot.get("duration_s"))
    if duration is None or not MIN_SHOT_S <= duration <= MAX_SHOT_S:
        errors.append(f"{where}.duration_s: {shot.get('duration_s')!r} must be a number of seconds "
                      f"from {MIN_SHOT_S:g} to {MAX_SHOT_S:g}")
        duration = 0.0
    known = ", ".join(sorted(cast)) or "none"
    characters = shot.get("characters", [])
    if not isinstance(characters, list):
        errors.append(f"{where}.characters: must be a list of character slugs")
        characters = []
    for j, character in enumerate(characters):
        if character not in cast:
            errors.append(f"{where}.characters[{j}]: {character!r} is not a character of this project "
                          f"(known: {known})")
    dialogue = shot.get("dialogue", [])
    if not isinstance(dialogue, list):
        errors.append(f"{where}.dialogue: must be a list of {{character, line}}")
        dialogue = []
    for k, line in enumerate(dialogue):
        if not isinstance(line, dict):
            errors.append(f"{where}.dialogue[{k}]: must be an object with character and line")
            continue
        if line.get("character") not in cast:
            errors.append(f"{where}.dialogue[{k}].character: {line.get('character')!r} is not a character "
                          f"of this project (known: {known})")
        elif line.get("character") not in characters:
            errors.append(f"{where}.dialogue[{k}].character: {line['character']!r} speaks but is not "
                          f"in the shot's characters")
        _check_text(f"{where}.dialogue[{k}]", line, "line", errors)
    return duration


def breakdown_errors(answer: Any, characters: Iterable[str]) -> list[str]:
    """Every problem of a proposed breakdown; an empty list means it can be written."""
    cast = set(characters)
    if not isinstance(answer, dict) or not isinstance(answer.get("scenes"), list):
        return ["the answer must be an object with a list `scenes`"]
    if not answer["scenes"]:
        return ["scenes: propose at least one scene"]
    errors: list[str] = []
    for i, scene in enumerate(answer["scenes"]):
        where = f"scenes[{i}]"
        if not isinstance(scene, dict):
            errors.append(f"{where}: must be an object")
            continue
        for name in SCENE_TEXT_FIELDS:
            _check_text(where, scene, name, errors, required=name in ("title", "description"))
        shots = scene.get("shots")
        if not isinstance(shots, list) or not shots:
            errors.append(f"{where}.shots: a scene needs at least one shot")
            continue
        total = sum(_check_shot(f"{where}.shots[{j}]", shot, cast, errors) for j, shot in enumerate(shots))
        target = _number(scene.get("target_duration_s"))
        if target is None or target <= 0:
            errors.append(f"{where}.target_duration_s: {scene.get('target_duration_s')!r} must be a positive "
                          f"number of seconds")
        elif abs(total - target) > duration_tolerance_s(target):
            errors.append(f"{where}: the shots last {total:g} s but target_duration_s is {target:g} s; "
                          f"make them add up (within {duration_tolerance_s(target):g} s)")
    return errors
