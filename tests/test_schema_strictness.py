"""Request bodies take numbers and booleans exactly as their JSON schema reads them.

pydantic's lax mode took true for an integer, 0 and 1 for a boolean and "5" for a number, which the
published schema refuses: schemathesis' negative tests sent them and got a 2xx. Its strict mode would
refuse 2.0, which JSON Schema's `integer` admits and schemathesis sends as valid. Every number and
boolean of every request body is held to that here, model by model; a representative route each of
the review, story, shot, autonomy and training routers answers 422 naming the field over HTTP; and
the document keeps its bounds as JSON Schema keywords.
"""

from __future__ import annotations

import math
import types
import typing
from typing import Annotated, Any, get_args, get_origin

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, TypeAdapter, ValidationError

from api.app import create_app
from api.schemas.bounds import EXACT_INT_MAX
from studio.settings import settings_for
from tests.story_api import story_api  # noqa: F401  (fixture)

TYPE_ERRORS = {"int_type", "float_type", "bool_type"}


def _refused(kind: str, value: int | float | None) -> list:
    """What pydantic's lax mode would take for a `kind` and the schema does not. `value` lies within the
    field's bounds, so a lax field cannot hide behind a bound refusing what it coerced."""
    return {"integer": [True, False, str(value), f"{value}.5", value + 0.5] if kind == "integer" else [],
            "number": [True, False, str(value)],
            "boolean": [0, 1, 0.0, 1.0, "true", "false"]}[kind]


def _app():
    return create_app(settings_for(), database_url="postgresql://unused/never")


def _leaves(annotation: Any, metadata: list, where: str, seen: set) -> typing.Iterator[tuple[str, str, TypeAdapter]]:
    """(where, JSON type, validator) for each integer, number and boolean a body can hold."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        yield from _leaves(base, [*metadata, *extra], where, seen)
    elif origin in (typing.Union, types.UnionType):
        for member in get_args(annotation):  # a union's constraints are its members'
            yield from _leaves(member, metadata, where, seen)
    elif origin in (list, set, tuple):
        for item in get_args(annotation):
            yield from _leaves(item, [], f"{where}[]", seen)
    elif origin is dict:
        yield from _leaves(get_args(annotation)[1], [], f"{where}{{}}", seen)
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in seen:
            seen.add(annotation)
            for name, field in annotation.model_fields.items():
                yield from _leaves(field.annotation, list(field.metadata), f"{annotation.__name__}.{name}", seen)
    elif annotation in (bool, int, float):
        kind = {bool: "boolean", int: "integer", float: "number"}[annotation]
        yield where, kind, TypeAdapter(Annotated[annotation, *metadata] if metadata else annotation)


def _body_leaves() -> dict[str, tuple[str, TypeAdapter]]:
    found, seen = {}, set()
    for context in iter_route_contexts(_app().routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            for param in route.dependant.body_params:
                info = param.field_info
                for where, kind, adapter in _leaves(info.annotation, list(info.metadata), f"{context.path}:{param.name}", seen):
                    found.setdefault(f"{where}:{kind}", (kind, adapter))
    return found


def _admits(schema: dict, value: float) -> bool:
    return (schema.get("minimum", -math.inf) <= value <= schema.get("maximum", math.inf)
            and schema.get("exclusiveMinimum", -math.inf) < value < schema.get("exclusiveMaximum", math.inf)
            and ("multipleOf" not in schema or value % schema["multipleOf"] == 0))


def _whole_within(schema: dict) -> int | None:
    """An integer the leaf's schema admits (0 where it can), or None."""
    low = max(schema.get("minimum", -math.inf), schema.get("exclusiveMinimum", -math.inf), min(0, schema.get("maximum", 0)))
    step = schema.get("multipleOf", 1)
    start = math.ceil(low / step) * step
    return next((int(v) for v in (start, start + step) if _admits(schema, v)), None)


BODY_LEAVES = _body_leaves()


def test_the_walk_reaches_every_router_and_nested_model():
    names = {key.rsplit(":", 1)[0] for key in BODY_LEAVES}
    assert {"BulkIn.ids[]", "/api/scenes/{slug}/shots/order:shot_ids[]", "ShotRenderEdit.cut", "ShotRenderEdit.seed",
            "ShotRenderEdit.duration_s", "ProposalRequest.scenes", "ActiveChoice.version", "LearningUpdate.pins{}",
            "LearningUpdate.learning_enabled", "ThresholdChanges.batch_size", "ThresholdChanges.drift_alpha",
            "StyleSpec.steps", "StyleSpec.cfg", "LoraSpec.strength", "LearningBoundsSpec.cfg[]", "SizeSpec.width",
            "VoiceSpec.length_scale", "CharacterCreate.target_images", "EpisodeCreate.number",
            "EpisodeSceneSpec.transition_s", "ShotSpec.duration_s", "ShotCreate.position"} <= names, sorted(names)
    assert len(BODY_LEAVES) >= 40


@pytest.mark.parametrize("key", sorted(BODY_LEAVES))
def test_every_body_number_and_boolean_takes_what_its_schema_admits_and_nothing_else(key):
    kind, adapter = BODY_LEAVES[key]
    schema = adapter.json_schema()
    assert schema["type"] == kind, schema
    whole = _whole_within(schema)
    if kind == "boolean":
        value, good = None, [True, False]
    elif kind == "integer":
        # JSON Schema (draft 6 on) reads 7.0 as the integer 7, and schemathesis sends it as a valid one
        value, good = whole, [whole, float(whole)]
    else:
        low = max(schema.get("minimum", -math.inf), schema.get("exclusiveMinimum", -math.inf))
        high = min(schema.get("maximum", math.inf), schema.get("exclusiveMaximum", math.inf))
        value = (low + high) / 2 if math.isfinite(low) and math.isfinite(high) else 0.5
        good = [value, *([] if whole is None else [whole])]  # an integer is a number
    assert value is None or _admits(schema, value), (key, schema, value)
    for accepted in good:
        taken = adapter.validate_python(accepted)
        assert taken == accepted and type(taken) is {"integer": int, "number": float, "boolean": bool}[kind], (key, accepted)
    for bad in _refused(kind, value):
        with pytest.raises(ValidationError) as refused:
            adapter.validate_python(bad)
        assert {e["type"] for e in refused.value.errors()} <= TYPE_ERRORS, (key, bad, refused.value.errors())


# Constraint names pydantic writes when a bound follows a validator: JSON Schema ignores them, so the
# bound would be enforced but undocumented (studio/spec/json_types.py).
NOT_JSON_SCHEMA = {"ge", "le", "gt", "lt", "multiple_of", "allow_inf_nan", "strict"}


def _stray_keys(node: Any, path: str = "") -> list[str]:
    if isinstance(node, list):
        return [k for i, item in enumerate(node) for k in _stray_keys(item, f"{path}/{i}")]
    if not isinstance(node, dict):
        return []
    found = [] if path.endswith("/properties") else [f"{path}/{k}" for k in NOT_JSON_SCHEMA & node.keys()]
    return found + [k for key, value in node.items() for k in _stray_keys(value, f"{path}/{key}")]


def test_the_document_keeps_every_bound_as_json_schema():
    document = _app().openapi()
    assert _stray_keys(document) == []
    schemas = document["components"]["schemas"]

    def prop(model: str, name: str) -> dict:
        found = schemas[model]["properties"][name]
        return next((s for s in found.get("anyOf", []) if s.get("type") != "null"), found)

    assert prop("StyleSpec", "steps").items() >= {"type": "integer", "minimum": 1, "maximum": 150}.items()
    assert prop("StyleSpec", "width").items() >= {"type": "integer", "minimum": 64, "maximum": 4096, "multipleOf": 8}.items()
    assert prop("ThresholdChanges", "batch_size").items() >= {"type": "integer", "minimum": 1, "maximum": 64}.items()
    assert prop("ThresholdChanges", "drift_alpha").items() >= {"minimum": 1e-6, "maximum": 0.999999}.items()
    assert prop("ShotRenderEdit", "seed").items() >= {"type": "integer", "minimum": 0, "maximum": EXACT_INT_MAX}.items()
    assert prop("ShotRenderEdit", "duration_s")["type"] == "number" and "minimum" in prop("ShotRenderEdit", "duration_s")
    assert prop("BulkIn", "ids")["items"].items() >= {"type": "integer", "minimum": 1, "maximum": EXACT_INT_MAX}.items()
    assert prop("VoiceSpec", "length_scale").items() >= {"type": "number", "exclusiveMinimum": 0.3, "maximum": 3.0}.items()
    assert prop("LearningBoundsSpec", "steps")["items"].items() >= {"minimum": 1, "maximum": 150}.items()
    assert prop("ActiveChoice", "version").items() >= {"minimum": 1, "maximum": 2**31 - 1}.items()
    pins = prop("LearningUpdate", "pins")["additionalProperties"]["anyOf"]
    assert [p["type"] for p in pins] == ["string", "integer", "number"] and pins[1]["maximum"] == EXACT_INT_MAX
    order = document["paths"]["/api/scenes/{slug}/shots/order"]["put"]["requestBody"]["content"]["application/json"]
    assert order["schema"]["items"].items() >= {"type": "integer", "minimum": 1}.items()


# ---- over HTTP, on the example project ------------------------------------------------------------

def refused_at(response: httpx.Response, *loc) -> str:
    """A 422 with an error at body.<loc> (or inside it: a union names its members); its message."""
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    for error in errors:
        if tuple(error["loc"][:len(loc) + 1]) == ("body", *loc):
            return error["msg"]
    raise AssertionError(f"no error at body.{'.'.join(map(str, loc))}: {errors}")


def test_story_routes_refuse_lax_values_and_take_whole_floats(story_api):
    api = story_api.client
    style = {"slug": "flat", "checkpoint": "flat.safetensors"}
    for field, bad in [("steps", True), ("steps", "25"), ("steps", 25.5), ("width", "768"), ("cfg", "1.5"),
                       ("cfg", True)]:
        assert "valid" in refused_at(api.post("/api/projects/lantern-harbor/styles", json={**style, field: bad}), field)
    assert refused_at(api.post("/api/projects/lantern-harbor/styles",
                               json={**style, "lora": {"name": "x", "strength": False}}), "lora", "strength")
    assert refused_at(api.post("/api/projects/lantern-harbor/styles",
                               json={**style, "learning_bounds": {"steps": [True, 20]}}), "learning_bounds", "steps", 0)
    made = api.post("/api/projects/lantern-harbor/styles", json={**style, "steps": 30.0, "width": 512.0, "cfg": 6})
    assert made.status_code == 201, made.text
    assert (made.json()["steps"], made.json()["width"], made.json()["cfg"]) == (30, 512, 6.0)

    for bad in (True, "12", 12.5):
        assert refused_at(api.patch("/api/characters/mika", json={"target_images": bad}), "target_images")
    assert api.patch("/api/characters/mika", json={"target_images": 12.0}).json()["target_images"] == 12

    episode = {"project": "lantern-harbor", "slug": "e02", "title": "Two"}
    assert refused_at(api.post("/api/episodes", json={**episode, "number": True}), "number")
    assert refused_at(api.post("/api/episodes", json={**episode, "number": "2"}), "number")
    assert refused_at(api.post("/api/episodes", json={**episode, "number": 2, "scenes": [
        {"scene": "lamp-goes-out", "transition": "fade", "transition_s": "1.5"}]}), "scenes", 0, "transition_s")

    assert refused_at(api.put("/api/characters/mika/voice", json={"speed": "1.5"}), "speed")
    assert refused_at(api.put("/api/characters/mika/voice", json={"pitch_semitones": True}), "pitch_semitones")

    shots = api.get("/api/scenes/lamp-goes-out").json()["shots"]
    ids = [shot["id"] for shot in shots]
    assert refused_at(api.put("/api/scenes/lamp-goes-out/shots/order", json=[True, *ids[1:]]), 0)
    assert refused_at(api.put("/api/scenes/lamp-goes-out/shots/order", json=[str(ids[0]), *ids[1:]]), 0)
    reordered = api.put("/api/scenes/lamp-goes-out/shots/order", json=[float(i) for i in reversed(ids)])
    assert reordered.status_code == 200, reordered.text
    assert [shot["id"] for shot in reordered.json()] == list(reversed(ids))
    assert refused_at(api.post("/api/scenes/lamp-goes-out/shots", json={"description": "a", "position": True}),
                      "position")
    assert refused_at(api.post("/api/scenes/lamp-goes-out/shots", json={"description": "a", "duration_s": "2"}),
                      "duration_s")


def test_shot_autonomy_review_and_training_routes_refuse_lax_values(story_api):
    api = story_api.client
    key = api.get("/api/scenes/lamp-goes-out/render-status").json()["shots"][0]["key"]
    render = f"/api/scenes/lamp-goes-out/shots/{key}/render"
    for field, bad in [("cut", 0), ("cut", 1), ("cut", "true"), ("seed", True), ("seed", "5"), ("seed", 5.5),
                       ("duration_s", "1.5"), ("duration_s", True), ("keyframe_image_id", False)]:
        assert refused_at(api.patch(render, json={field: bad}), field)
    edited = api.patch(render, json={"cut": True, "seed": 7.0, "duration_s": 4})
    assert edited.status_code == 200, edited.text

    settings = "/api/autonomy/projects/lantern-harbor/settings"
    for field, bad in [("batch_size", True), ("batch_size", "4"), ("enabled", 0), ("learning_enabled", 1),
                       ("enabled", "false"), ("daily_gpu_seconds", "1.5"), ("drift_alpha", False)]:
        assert refused_at(api.patch(settings, json={field: bad}), field)
    changed = api.patch(settings, json={"batch_size": 4.0, "enabled": False, "daily_gpu_seconds": 100})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["batch_size"], changed.json()["enabled"], changed.json()["daily_gpu_seconds"]) == (4, False, 100)

    learning = "/api/autonomy/characters/mika/learning"
    assert refused_at(api.patch(learning, json={"learning_enabled": 0}), "learning_enabled")
    assert refused_at(api.patch(learning, json={"pins": {"cfg": True}}), "pins", "cfg")

    for bad in ([True], ["1"], [1.5]):
        assert refused_at(api.post("/api/images/bulk", json={"action": "approve", "ids": bad}), "ids", 0)
    bulk = api.post("/api/images/bulk", json={"action": "approve", "ids": [987654.0]})
    assert bulk.status_code == 200 and bulk.json()["missing"] == [987654], bulk.text

    assert refused_at(api.put("/api/training/mika/active", json={"version": True}), "version")
    assert refused_at(api.put("/api/training/mika/active", json={"version": "1"}), "version")
    assert refused_at(api.post("/api/projects/lantern-harbor/scene-proposals", json={"scenes": True}), "scenes")
    assert refused_at(api.post("/api/projects/lantern-harbor/scene-proposals", json={"scenes": "2"}), "scenes")
