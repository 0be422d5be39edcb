"""The Ollama client and the vision reviewer, against the Ollama double over real HTTP."""

import base64
import socket

import pytest

from studio.clients.ollama import OllamaClient, OllamaError, OllamaModelNotFound, OllamaUnreachable
from studio.domain.appearance import Appearance
from studio.domain.review import decide
from studio.domain.prompts import species_question
from studio.review.checklist import ANSWER_SCHEMA, build_checklist, colour_words
from studio.review.vision_reviewer import review_image
from tests.doubles.ollama import OllamaDouble, Scripted, request_image

HUMAN = Appearance(species="human", key_colors={"hair": "#1f2a5c"}, features=["yellow raincoat"],
                   common_errors=["long hair"])
DRAGON = Appearance(species="dragon — NOT human", key_colors={"scales": "#e8642a"}, features=["short horns"])
IMAGE = b"\x89PNG\r\n\x1a\n-not-decoded-by-the-double\x00\xff"


def great(request):
    return {"quality_score": 0.95, "solo": True, "checklist": [{"item": "is a human", "passed": True}],
            "species_ok": True, "reason": "great"}


async def review(ollama_double, appearance=HUMAN, attempts=3, **config):
    resource = OllamaClient(url=ollama_double.url, **config)
    return await review_image(resource, IMAGE, character_name="Mika", design_prompt="girl, raincoat",
                              appearance=appearance, attempts=attempts)


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


# ---- a good answer ------------------------------------------------------------------------------

async def test_a_good_answer_becomes_a_review_result_and_the_seed_rule_decides():
    with OllamaDouble(answer=great) as ollama:
        human = await review(ollama)
        dragon = await review(ollama, DRAGON)
    assert human.error is None and human.quality_score == 0.95 and human.solo is True
    assert human.backend == "ollama" and human.model == "qwen2.5vl:7b" and human.reason == "great"
    assert [(c.item, c.passed) for c in human.checklist] == [("is a human", True)]
    assert decide(human, is_human=True) == "approved"
    # Same score, solo, species confirmed: a non-human character still goes to a person.
    assert dragon.error is None and dragon.quality_score == 0.95 and dragon.species_ok is True
    assert decide(dragon, is_human=DRAGON.is_human) == "pending"


async def test_a_low_score_is_rejected_and_a_failed_species_check_goes_to_a_person():
    low = {"quality_score": 0.2, "solo": True, "checklist": [], "species_ok": None, "reason": "blurry"}
    not_a_dragon = {"quality_score": 0.9, "solo": True, "checklist": [], "species_ok": False, "reason": "a girl"}
    with OllamaDouble() as ollama:
        ollama.replies += [low, not_a_dragon]
        assert decide(await review(ollama), is_human=True) == "rejected"
        result = await review(ollama, DRAGON)
    assert result.species_ok is False and decide(result, is_human=False) == "pending"


async def test_the_request_carries_raw_base64_the_schema_no_stream_and_a_big_context():
    with OllamaDouble() as ollama:
        await review(ollama, DRAGON, keep_alive="30m")
    [request] = ollama.requests
    assert request["model"] == "qwen2.5vl:7b" and request["stream"] is False
    assert request["format"] == ANSWER_SCHEMA
    assert request["options"]["num_ctx"] == 8192 and request["options"]["temperature"] == 0
    assert request["keep_alive"] == "30m"
    [message] = request["messages"]
    assert message["role"] == "user"
    assert message["images"] == [base64.b64encode(IMAGE).decode()]
    assert not message["images"][0].startswith("data:") and request_image(request) == IMAGE
    prompt = message["content"]
    assert all(f"- {item}" in prompt for item in build_checklist(DRAGON))
    assert "orange (#e8642a)" in prompt and "has short horns" in prompt
    assert f"species_ok: true or false. {species_question(DRAGON)}" in prompt  # "... reptilian dragon snout ..."


# ---- what is retried, and what ends with an error result ----------------------------------------

@pytest.mark.parametrize("bad", [
    "malformed",
    "truncated",
    "http500",
    "```json\n{}\n```",
    {"quality_score": 1.7, "solo": True, "checklist": [], "species_ok": None, "reason": "out of range"},
    {"quality_score": -0.1, "solo": True, "checklist": [], "species_ok": None, "reason": "out of range"},
    {"quality_score": "0.9", "solo": True, "checklist": [], "species_ok": None, "reason": "score as text"},
    {"quality_score": 0.9, "solo": "yes", "checklist": [], "species_ok": None, "reason": "solo as text"},
    {"quality_score": 0.9, "solo": True, "species_ok": None, "reason": "no checklist"},
    {"quality_score": 0.9, "solo": True, "checklist": [{"item": "hair"}], "species_ok": None, "reason": "x"},
    [0.9, True],
])
async def test_a_bad_answer_is_retried_then_the_good_one_is_used(bad):
    with OllamaDouble(answer=great) as ollama:
        ollama.replies.append(bad)
        result = await review(ollama)
    assert result.error is None and result.quality_score == 0.95
    assert len(ollama.requests) == 2 and ollama.requests[0] == ollama.requests[1]


async def test_three_bad_answers_send_the_image_to_a_person_with_every_problem_named():
    with OllamaDouble(answer=great) as ollama:
        ollama.replies += ["malformed", "truncated", {"quality_score": 1.7}]
        result = await review(ollama)
        assert len(ollama.requests) == 3
    assert result.error.startswith("no usable answer after 3 attempts")
    assert "malformed JSON" in result.error and "done_reason=length" in result.error
    assert "quality_score" in result.error
    assert result.backend == "ollama" and result.model == "qwen2.5vl:7b"
    assert decide(result, is_human=True) == "pending"


async def test_the_number_of_attempts_is_respected():
    with OllamaDouble(answer=lambda request: "truncated") as ollama:
        result = await review(ollama, attempts=2)
        assert len(ollama.requests) == 2
    assert "2 attempts" in result.error and decide(result, is_human=True) == "pending"
    with pytest.raises(ValueError):
        await review(ollama, attempts=0)


async def test_an_unknown_model_is_not_retried():
    with OllamaDouble() as ollama:
        result = await review(ollama, vision_model="llava:missing")
    assert len(ollama.requests) == 1
    assert "'llava:missing'" in result.error and "not found" in result.error
    assert result.model == "llava:missing" and decide(result, is_human=True) == "pending"


async def test_an_unreachable_or_stuck_server_is_an_error_result_not_an_exception():
    down = await review_image(OllamaClient(url=_closed_port_url()), IMAGE, character_name="Mika",
                              design_prompt="girl", appearance=HUMAN)
    assert "cannot reach" in down.error and decide(down, is_human=True) == "pending"
    with OllamaDouble(delay_s=1.0) as ollama:
        stuck = await review(ollama, timeout_s=0.2)
        assert len(ollama.requests) == 1
    assert "did not answer" in stuck.error and decide(stuck, is_human=True) == "pending"


async def test_a_slow_scripted_reply_within_the_timeout_is_used():
    with OllamaDouble() as ollama:
        ollama.replies.append(Scripted({**great({}), "reason": "slow but fine"}, delay_s=0.3))
        result = await review(ollama, timeout_s=5)
    assert result.error is None and result.reason == "slow but fine"


async def test_the_double_can_answer_per_image():
    def by_image(request):
        score = 0.3 if request_image(request) == b"blurry" else 0.85
        return {"quality_score": score, "solo": True, "checklist": [], "species_ok": None, "reason": "-"}

    with OllamaDouble(answer=by_image) as ollama:
        resource = OllamaClient(url=ollama.url)
        scores = [(await review_image(resource, image, character_name="Mika", design_prompt="girl",
                                      appearance=HUMAN)).quality_score for image in (b"blurry", b"sharp")]
    assert scores == [0.3, 0.85]


# ---- the client itself --------------------------------------------------------------------------

async def test_chat_reply_fields_and_errors():
    with OllamaDouble() as ollama:
        resource = OllamaClient(url=ollama.url)
        reply = await resource.chat("qwen2.5:7b", [{"role": "user", "content": "hi"}])
        assert reply.done_reason == "stop" and not reply.truncated and reply.model == "qwen2.5:7b"
        assert 0 < reply.total_seconds < 5 and reply.raw["done"] is True and reply.eval_count > 0
        assert "images" not in ollama.requests[0]["messages"][0] and "format" not in ollama.requests[0]
        ollama.replies.append("http500")
        with pytest.raises(OllamaError, match="500: llama runner process has terminated"):
            await resource.chat("qwen2.5:7b", [{"role": "user", "content": "hi"}])
        with pytest.raises(OllamaModelNotFound, match="model 'nope:1b' not found"):
            await resource.chat("nope:1b", [{"role": "user", "content": "hi"}])
    with pytest.raises(OllamaUnreachable, match="^cannot reach"):
        await OllamaClient(url=_closed_port_url()).chat("qwen2.5:7b", [{"role": "user", "content": "hi"}])


async def test_gpu_status_and_installed_models():
    with OllamaDouble(loaded=()) as ollama:
        resource = OllamaClient(url=ollama.url)
        assert await resource.ps() == []
        assert await resource.tags() == ["qwen2.5vl:7b", "qwen2.5:7b"]
        await review(ollama)
        [loaded] = await resource.ps()
    assert loaded["name"] == "qwen2.5vl:7b" and loaded["size_vram"] > 0 and loaded["expires_at"]
    with pytest.raises(OllamaUnreachable):
        await OllamaClient(url=_closed_port_url()).ps()


async def test_calls_in_a_session_share_one_client_which_closes_with_the_session():
    with OllamaDouble() as ollama:
        resource = OllamaClient(url=ollama.url)
        async with resource.session() as clients:
            await review(ollama)  # a resource of its own: outside this session
            await review_image(resource, IMAGE, character_name="Mika", design_prompt="girl", appearance=HUMAN)
            await resource.tags()
            async with resource.session() as inner:  # nested: the same clients
                assert inner is clients
            shared = clients.get(ollama.url)
            assert not shared.is_closed and len(shared._transport.idle_connections) == 1
        assert shared.is_closed
        assert await resource.tags()  # outside any session a call opens (and closes) its own client
        assert len(ollama.requests) == 2


# ---- what the model is asked --------------------------------------------------------------------

def test_the_checklist_covers_species_colours_features_and_common_errors():
    assert build_checklist(HUMAN) == ["is a human", "hair is dark blue (#1f2a5c)", "has yellow raincoat",
                                      "no long hair"]
    assert build_checklist(DRAGON)[0] == "is a dragon, not a human"


@pytest.mark.parametrize("hex_colour,words", [("#1f2a5c", "dark blue"), ("#e8642a", "orange"),
                                              ("#ffffff", "white"), ("#0a0a0a", "black"), ("#808080", "grey"),
                                              ("#2e8b57", "green"), ("#ffb6c1", "pink")])
def test_colour_words(hex_colour, words):
    assert colour_words(hex_colour) == words
