"""The scene planner against the Ollama double (valid, invalid-then-fixed, always invalid) and the
template planner; proposals are written only whole and valid."""

import contextlib
import copy
import json

import pytest

from studio.cli import main as studio
from studio.clients.ollama import OllamaClient
from studio.story.errors import InvalidField
from studio.clients.echo import EchoClient, EchoUnavailable
from studio.settings import settings_for
from studio.story.planner import (BREAKDOWN_SCHEMA, EchoScenePlanner, OllamaScenePlanner, PlanningFailed,
                                  TemplateScenePlanner, scene_planner)
from studio.story.proposals import accept_proposal, get_proposal, store_proposal, story_context
from tests.conftest import EXAMPLE_SPEC
from tests.doubles.echo import EchoDouble
from tests.doubles.ollama import OllamaDouble

GOOD = {"scenes": [{
    "title": "Harbour at dawn", "description": "Mika and Ember watch the boats return.", "location": "harbour",
    "time_of_day": "dawn", "weather": "clearing", "mood": "relieved", "target_duration_s": 6.5,
    "shots": [
        {"shot_type": "establishing", "camera_angle": "high", "duration_s": 4, "first_frame": "boats on the water",
         "motion_prompt": "boats drift in", "characters": [], "dialogue": []},
        {"shot_type": "close_up", "camera_angle": "eye level", "duration_s": 2.5, "first_frame": "Ember yawns",
         "motion_prompt": "ember yawns", "characters": ["ember", "mika"],
         "dialogue": [{"character": "mika", "line": "They made it."}]},
    ]}]}


def _broken(change) -> dict:
    breakdown = copy.deepcopy(GOOD)
    change(breakdown["scenes"][0])
    return breakdown


UNKNOWN_CHARACTER = _broken(lambda scene: scene["shots"][1].update(characters=["bob"]))
WRONG_LENGTH = _broken(lambda scene: scene.update(target_duration_s=30))


@pytest.fixture
def imported(studio_env, db_url):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0


async def test_a_valid_answer_is_a_proposal_at_the_first_attempt(imported, db):
    context = await story_context(db, "lantern-harbor")
    with OllamaDouble() as ollama:
        ollama.replies.append(GOOD)
        proposal = await OllamaScenePlanner(OllamaClient(ollama.url)).propose(context)
        request = ollama.requests[0]
    assert (proposal.attempts, proposal.breakdown) == (1, GOOD)
    assert request["format"] == BREAKDOWN_SCHEMA and request["stream"] is False
    assert "mika" in request["messages"][-1]["content"] and "close_up" in request["messages"][-1]["content"]


@contextlib.contextmanager
def planner_with_replies(backend: str, replies: list):
    """A planner of `backend` whose model answers `replies` in turn; yields it and the chat requests' messages."""
    if backend == "ollama":
        with OllamaDouble() as ollama:
            ollama.replies.extend(replies)
            yield OllamaScenePlanner(OllamaClient(ollama.url)), lambda: [r["messages"] for r in ollama.requests]
    else:
        with EchoDouble() as echo:
            echo.replies.extend(replies)
            yield EchoScenePlanner(EchoClient(echo.url)), lambda: [body["messages"] for _, body in echo.requests]


@pytest.mark.parametrize("backend", ["ollama", "echo"])
async def test_an_invalid_answer_goes_back_with_its_errors_and_the_fix_is_taken(imported, db, backend):
    context = await story_context(db, "lantern-harbor")
    with planner_with_replies(backend, ["Sure! Here are the scenes.", UNKNOWN_CHARACTER, GOOD]) as (planner, sent):
        proposal = await planner.propose(context)
        messages = sent()
    assert (proposal.attempts, proposal.backend) == (3, backend)
    assert "the answer is not JSON" in messages[1][-1]["content"]
    assert "scenes[0].shots[1].characters[0]: 'bob' is not a character" in messages[2][-1]["content"]
    assert json.loads(messages[2][-2]["content"]) == UNKNOWN_CHARACTER  # its own answer goes back with them


@pytest.mark.parametrize("backend", ["ollama", "echo"])
async def test_always_invalid_fails_clearly_and_writes_nothing(imported, db, backend):
    context = await story_context(db, "lantern-harbor")
    scenes_before = await db.fetchval("SELECT count(*) FROM scenes")
    with planner_with_replies(backend, [WRONG_LENGTH] * 4) as (planner, sent):
        with pytest.raises(PlanningFailed, match="no valid breakdown in 3 attempts.*target_duration_s is 30 s"):
            await planner.propose(context)
        assert len(sent()) == 3
    assert await db.fetchval("SELECT count(*) FROM scenes") == scenes_before
    assert await db.fetchval("SELECT count(*) FROM scene_proposals") == 0


async def test_template_planner_is_deterministic_and_valid(imported, db):
    context = await story_context(db, "lantern-harbor")
    a, b = await TemplateScenePlanner().propose(context), await TemplateScenePlanner().propose(context)
    assert a.breakdown == b.breakdown and a.backend == "preview"
    assert len(a.breakdown["scenes"]) == 2


async def test_accepting_an_edited_proposal_writes_all_its_scenes_and_shots(imported, db):
    proposal = await store_proposal(db, "lantern-harbor", GOOD, "ollama", 1)
    edited = copy.deepcopy(GOOD)
    edited["scenes"][0]["shots"][0]["duration_s"] = 40  # invalid edit: refused, nothing written
    with pytest.raises(InvalidField, match="duration_s: 40"):
        await accept_proposal(db, proposal["id"], edited)
    assert await db.fetchval("SELECT count(*) FROM scenes WHERE slug = 'harbour-at-dawn'") == 0
    edited["scenes"][0]["shots"][0]["duration_s"] = 4
    edited["scenes"][0]["shots"][0]["motion_prompt"] = "gulls circle"
    assert await accept_proposal(db, proposal["id"], edited) == ["harbour-at-dawn"]
    shots = await db.fetch("SELECT shot_type, motion_prompt, first_frame, dialogue FROM shots s JOIN scenes c "
                           "ON c.id = s.scene_id WHERE c.slug = 'harbour-at-dawn' ORDER BY position")
    assert [s["shot_type"] for s in shots] == ["establishing", "close_up"]
    assert shots[0]["motion_prompt"] == "gulls circle"
    assert shots[1]["dialogue"] == [{"character": "mika", "line": "They made it."}]
    assert (await get_proposal(db, proposal["id"]))["status"] == "accepted"


# --- Echo (STUDIO_ECHO_URL set): the same checks and retries, the schema in the instructions ----------
async def test_echo_plans_when_configured_and_its_fenced_valid_answer_is_taken(imported, db):
    context = await story_context(db, "lantern-harbor")
    with EchoDouble() as echo:
        echo.replies.append("```json\n" + json.dumps(GOOD) + "\n```")
        planner = scene_planner(settings_for(backend="live", echo_url=echo.url))
        proposal = await planner.propose(context)
        path, body = echo.requests[0]
    assert isinstance(planner, EchoScenePlanner)
    assert (proposal.attempts, proposal.backend, proposal.breakdown) == (1, "echo", GOOD)
    assert path == "/api/echo/chat" and json.dumps(BREAKDOWN_SCHEMA, separators=(",", ":")) in body["messages"][0]["content"]
    assert "close_up" in body["messages"][-1]["content"]


async def test_echo_unreachable_is_said_so_and_the_preview_backend_keeps_its_template(imported, db):
    context = await story_context(db, "lantern-harbor")
    with EchoDouble() as echo:
        url = echo.url
    with pytest.raises(EchoUnavailable, match=f"cannot reach Echo at {url}"):
        await EchoScenePlanner(EchoClient(url)).propose(context)
    assert isinstance(scene_planner(settings_for(backend="preview", echo_url=url)), TemplateScenePlanner)
    assert isinstance(scene_planner(settings_for(backend="live", echo_url="")), OllamaScenePlanner)
