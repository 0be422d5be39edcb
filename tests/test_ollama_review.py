"""The vision reviewer against the Ollama double over real HTTP."""

import base64

import pytest

from resources.ollama import OllamaResource
from studio.domain.appearance import Appearance
from studio.domain.review import decide
from studio.review.vision_reviewer import review_image
from tests.doubles.ollama import OllamaDouble

HUMAN = Appearance(species="human", key_colors={"hair": "#1f2a5c"}, common_errors=["long hair"])
DRAGON = Appearance(species="dragon — NOT human", key_colors={"scales": "#e8642a"})
IMAGE = b"\x89PNG\r\n\x1a\n-not-decoded-by-the-double"


def great(request):
    return {"quality_score": 0.95, "solo": True, "checklist": [], "species_ok": True, "reason": "great"}


async def review(ollama_double, appearance=HUMAN, **kw):
    resource = OllamaResource(url=ollama_double.url, **kw)
    return await review_image(resource, IMAGE, character_name="Mika", design_prompt="girl, raincoat",
                              appearance=appearance)


async def test_a_good_answer_is_decided_by_the_seed_rule():
    with OllamaDouble(answer=great) as ollama:
        human = await review(ollama)
        dragon = await review(ollama, DRAGON)
    assert human.quality_score == 0.95 and human.backend == "ollama" and human.model == "qwen2.5vl:7b"
    assert decide(human, is_human=True) == "approved"
    assert decide(dragon, is_human=False) == "pending"  # never auto-approved, even at 0.95 and solo


async def test_the_request_carries_raw_base64_a_schema_and_a_big_context():
    with OllamaDouble() as ollama:
        await review(ollama, DRAGON)
    [request] = ollama.requests
    message = request["messages"][-1]
    assert message["images"] == [base64.b64encode(IMAGE).decode()]
    assert not message["images"][0].startswith("data:")
    assert request["stream"] is False and request["format"]["required"]
    assert request["options"]["num_ctx"] >= 8192
    assert "scales" in message["content"] and "species is dragon — NOT human" in message["content"]


@pytest.mark.parametrize("bad", ["malformed", "truncated", "http500",
                                 {"quality_score": 1.7, "solo": True, "checklist": [], "species_ok": None,
                                  "reason": "out of range"}])
async def test_a_bad_answer_is_retried_then_succeeds(bad):
    with OllamaDouble(answer=great) as ollama:
        ollama.replies.append(bad)
        result = await review(ollama)
    assert result.error is None and result.quality_score == 0.95 and len(ollama.requests) == 2


async def test_three_bad_answers_send_the_image_to_a_person():
    with OllamaDouble(answer=great) as ollama:
        ollama.replies += ["malformed", "truncated", "malformed"]
        result = await review(ollama)
    assert result.error and "3 attempts" in result.error
    assert decide(result, is_human=True) == "pending"


async def test_an_unknown_model_is_not_retried():
    with OllamaDouble() as ollama:
        result = await review(ollama, vision_model="llava:missing")
    assert "not found" in result.error and len(ollama.requests) == 1
    assert decide(result, is_human=True) == "pending"


async def test_gpu_status_and_installed_models():
    with OllamaDouble() as ollama:
        resource = OllamaResource(url=ollama.url)
        assert (await resource.ps())[0]["name"] == "qwen2.5vl:7b"
        assert "qwen2.5:7b" in await resource.tags()
