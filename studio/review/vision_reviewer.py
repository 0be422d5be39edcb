"""Reviewing one image with the Ollama vision model.

Never raises for a bad or missing answer: it returns a ReviewResult with `error` set, and
`decide` sends such a result to a person. An error never approves (or rejects) an image.
"""

from __future__ import annotations

from pydantic import ValidationError

from studio.clients.ollama import OllamaClient, OllamaError, OllamaModelNotFound, OllamaTimeout, OllamaUnreachable
from studio.domain.appearance import Appearance
from studio.domain.review import ChecklistItem, ReviewResult
from studio.review.checklist import ANSWER_SCHEMA, VisionAnswer, build_review_prompt

# Same image, same prompt: a repeatable answer is worth more than a creative one.
REVIEW_OPTIONS = {"temperature": 0}


def failed_review(model: str, error: str) -> ReviewResult:
    # The score is a placeholder: `decide` looks at `error` before it looks at the score.
    return ReviewResult(quality_score=0.0, solo=False, backend="ollama", model=model, error=error)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())[:200]


def _answer_problem(error: ValidationError) -> str:
    details = error.errors(include_url=False)
    if any(d["type"] == "json_invalid" for d in details):
        return f"malformed JSON: {details[0]['msg']}"
    where = "; ".join(f"{'.'.join(map(str, d['loc'])) or 'answer'}: {d['msg']}" for d in details[:3])
    return f"answer does not match the schema: {where}"


def parse_answer(content: str, model: str) -> ReviewResult:
    """The model's JSON text as a ReviewResult; raises ValidationError when it breaks the schema."""
    answer = VisionAnswer.model_validate_json(content)
    return ReviewResult(
        quality_score=answer.quality_score, solo=answer.solo,
        checklist=[ChecklistItem(item=a.item, passed=a.passed) for a in answer.checklist],
        species_ok=answer.species_ok, reason=answer.reason, backend="ollama", model=model,
    )


async def review_image(ollama: OllamaClient, image_bytes: bytes, *, character_name: str,
                       design_prompt: str, appearance: Appearance, attempts: int = 3) -> ReviewResult:
    """Ask the vision model about one image; retry answers that are cut off, malformed or off-schema."""
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")
    model = ollama.vision_model
    messages = [{"role": "user", "content": build_review_prompt(character_name, design_prompt, appearance)}]
    problems: list[str] = []
    for _ in range(attempts):
        try:
            reply = await ollama.chat(model, messages, format_schema=ANSWER_SCHEMA, images=[image_bytes],
                                      options=REVIEW_OPTIONS)
        except OllamaModelNotFound as exc:
            # Nothing changes until someone pulls the model; asking again only wastes time.
            return failed_review(model, f"vision model {model!r} is not installed: {exc}")
        except (OllamaUnreachable, OllamaTimeout) as exc:
            # A server that is down or stuck will not recover within a retry; a person decides.
            return failed_review(model, f"vision review impossible: {exc}")
        except OllamaError as exc:
            problems.append(f"Ollama error: {_one_line(exc)}")
            continue
        if reply.truncated:
            problems.append("answer cut off (done_reason=length)")
            continue
        try:
            return parse_answer(reply.content, reply.model)
        except ValidationError as exc:
            problems.append(_answer_problem(exc))
    return failed_review(model, f"no usable answer after {attempts} attempts: " + "; ".join(problems))
