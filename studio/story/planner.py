"""Story to scenes: a planner proposes scenes and shots from the storyline, world and characters.

The LLM planners ask for JSON in the breakdown's schema: Ollama through its `format` (the schema
itself), Echo (when STUDIO_ECHO_URL is set) with the schema in the instructions, as its chat takes no
format. An answer that breaks the rules of studio/domain/scene_plan.py goes back to the model with
the list of problems, up to `max_attempts`, then planning fails naming them. The preview planner is
a deterministic template. A proposal is stored as a whole and only once valid; accepting it
(studio/story/proposals.py) writes the scenes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from studio.clients.echo import EchoClient
from studio.clients.ollama import OllamaClient
from studio.domain.motion_presets import MOTION_PRESETS, SHOT_TYPES
from studio.domain.scene_plan import MAX_SHOT_S, MIN_SHOT_S, breakdown_errors

_TEXT = {"type": "string"}
BREAKDOWN_SCHEMA: dict = {
    "type": "object", "required": ["scenes"],
    "properties": {"scenes": {"type": "array", "minItems": 1, "items": {
        "type": "object",
        "required": ["title", "description", "location", "time_of_day", "weather", "mood", "target_duration_s",
                     "shots"],
        "properties": {
            "title": _TEXT, "description": _TEXT, "location": _TEXT, "time_of_day": _TEXT, "weather": _TEXT,
            "mood": _TEXT, "target_duration_s": {"type": "number"},
            "shots": {"type": "array", "minItems": 1, "items": {
                "type": "object",
                "required": ["shot_type", "camera_angle", "duration_s", "first_frame", "motion_prompt",
                             "characters", "dialogue"],
                "properties": {
                    "shot_type": {"type": "string", "enum": list(SHOT_TYPES)}, "camera_angle": _TEXT,
                    "duration_s": {"type": "number", "minimum": MIN_SHOT_S, "maximum": MAX_SHOT_S},
                    "first_frame": _TEXT, "motion_prompt": _TEXT,
                    "characters": {"type": "array", "items": _TEXT},
                    "dialogue": {"type": "array", "items": {"type": "object", "required": ["character", "line"],
                                                            "properties": {"character": _TEXT, "line": _TEXT}}},
                }}},
        }}}},
}


class PlanningFailed(RuntimeError):
    def __init__(self, attempts: int, errors: list[str]):
        self.attempts, self.errors = attempts, errors
        super().__init__(f"the planner gave no valid breakdown in {attempts} attempts; last problems: "
                         + "; ".join(errors[:8]))


@dataclass(frozen=True)
class StoryContext:
    project: str
    storyline: dict
    world: dict
    characters: list[dict]  # slug, name, design_prompt

    @property
    def cast(self) -> list[str]:
        return [c["slug"] for c in self.characters]


@dataclass(frozen=True)
class Proposal:
    breakdown: dict
    backend: str
    attempts: int


def _prompt(context: StoryContext, scenes: int) -> str:
    presets = "\n".join(f"- {p.shot_type}: {p.camera_move}, about {p.default_duration_s:g} s"
                        for p in MOTION_PRESETS.values())
    cast = "\n".join(f"- {c['slug']}: {c['name']}, {c['design_prompt']}" for c in context.characters)
    return (f"Break this story into {scenes} anime scenes with their shots.\n\n"
            f"Storyline: {json.dumps(context.storyline, ensure_ascii=False)}\n"
            f"World: {json.dumps(context.world, ensure_ascii=False)}\n"
            f"Characters (use only these slugs, in characters and as dialogue speakers):\n{cast}\n\n"
            f"Shot types (use only these):\n{presets}\n\n"
            f"Each shot lasts {MIN_SHOT_S:g}-{MAX_SHOT_S:g} s and a scene's shots add up to its target_duration_s. "
            "first_frame describes the opening picture of the shot; motion_prompt says how it moves. "
            "A speaker must be among the shot's characters.")


SYSTEM = "You are an anime storyboard planner. Answer with JSON only."


def _json_answer(content: str):
    """The JSON of an answer; a model without a format constraint may wrap it in a ``` fence."""
    text = content.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return json.loads(text)


class _CheckedPlanner:
    """Asks, checks the answer against the rules, and asks again with the problems listed."""

    backend = ""

    def __init__(self, max_attempts: int = 3):
        self.max_attempts = max_attempts

    def _system(self) -> str:
        return SYSTEM

    async def _ask(self, messages: list[dict]) -> tuple[str, bool]:
        """The answer's text, and whether it was cut off."""
        raise NotImplementedError

    async def propose(self, context: StoryContext, scenes: int = 2) -> Proposal:
        messages = [{"role": "system", "content": self._system()},
                    {"role": "user", "content": _prompt(context, scenes)}]
        errors: list[str] = []
        for attempt in range(1, self.max_attempts + 1):
            content, truncated = await self._ask(messages)
            try:
                answer = _json_answer(content)
                errors = breakdown_errors(answer, context.cast)
            except json.JSONDecodeError:
                answer, errors = None, ["the answer is not JSON" + (" (cut off: too long)" if truncated else "")]
            if not errors:
                return Proposal(answer, self.backend, attempt)
            messages += [{"role": "assistant", "content": content},
                         {"role": "user", "content": "Your breakdown has these problems:\n- " + "\n- ".join(errors)
                          + "\nAnswer again with the whole corrected breakdown."}]
        raise PlanningFailed(self.max_attempts, errors)


class OllamaScenePlanner(_CheckedPlanner):
    backend = "ollama"

    def __init__(self, client: OllamaClient, *, model: str | None = None, max_attempts: int = 3):
        super().__init__(max_attempts)
        self.client, self.model = client, model or client.text_model

    async def _ask(self, messages: list[dict]) -> tuple[str, bool]:
        reply = await self.client.chat(self.model, messages, format_schema=BREAKDOWN_SCHEMA,
                                       options={"temperature": 0.4})
        return reply.content, reply.truncated


class EchoScenePlanner(_CheckedPlanner):
    backend = "echo"

    def __init__(self, client: EchoClient, *, max_attempts: int = 3):
        super().__init__(max_attempts)
        self.client = client

    def _system(self) -> str:
        return (f"{SYSTEM} The JSON is one object that follows this JSON schema:\n"
                + json.dumps(BREAKDOWN_SCHEMA, separators=(",", ":")))

    async def _ask(self, messages: list[dict]) -> tuple[str, bool]:
        return await self.client.chat(messages), False


def scene_planner(settings) -> "OllamaScenePlanner | EchoScenePlanner | TemplateScenePlanner":
    """The planner a studio's settings ask for: the template on the preview backend, else Echo when
    STUDIO_ECHO_URL is set, else Ollama."""
    if settings.backend == "preview":
        return TemplateScenePlanner()
    if settings.echo_url:
        return EchoScenePlanner(EchoClient(settings.echo_url, model=settings.echo_model,
                                           ollama_url=settings.ollama_url))
    return OllamaScenePlanner(OllamaClient(settings.ollama_url, text_model=settings.text_model))


class TemplateScenePlanner:
    """The preview planner: the same story always gives the same breakdown."""

    backend = "preview"

    async def propose(self, context: StoryContext, scenes: int = 2) -> Proposal:
        locations = list(context.world.get("locations") or []) or [context.world.get("name") or "the town"]
        cast = context.cast
        planned = []
        for i in range(scenes):
            location = str(locations[i % len(locations)])
            lead = cast[i % len(cast)] if cast else None
            shots = [self._shot("establishing", f"{location}, wide view", [], [])]
            if lead:
                shots.append(self._shot("medium", f"{lead} in {location}", [lead],
                                        [{"character": lead, "line": f"Here we are: {location}."}]))
                shots.append(self._shot("close_up", f"close-up of {lead}", [lead], []))
            planned.append({"title": f"{context.storyline.get('title', 'Scene')} {i + 1}",
                            "description": context.storyline.get("logline") or f"Scene {i + 1}",
                            "location": location, "time_of_day": "day", "weather": "clear",
                            "mood": context.storyline.get("tone") or "calm",
                            "target_duration_s": sum(s["duration_s"] for s in shots), "shots": shots})
        breakdown = {"scenes": planned}
        errors = breakdown_errors(breakdown, cast)
        if errors:
            raise PlanningFailed(1, errors)
        return Proposal(breakdown, self.backend, 1)

    @staticmethod
    def _shot(shot_type: str, first_frame: str, characters: list[str], dialogue: list[dict]) -> dict[str, Any]:
        preset = MOTION_PRESETS[shot_type]
        return {"shot_type": shot_type, "camera_angle": preset.camera_move, "duration_s": preset.default_duration_s,
                "first_frame": first_frame, "motion_prompt": preset.motion_prompt, "characters": characters,
                "dialogue": dialogue}
