"""The chat request body with images joined in as bytes (studio.clients.ollama.chat_request_body) is
the document the JSON encoder writes with the images as base64 strings."""

import base64
import json
import os

import pytest

from studio.clients.ollama import chat_request_body

MESSAGES = [
    {"role": "system", "content": "Answer in JSON. Quotes \" and \\ and ünïcode — and a newline\n"},
    {"role": "user", "content": "first look"},
    {"role": "assistant", "content": "{\"images\": [\"image-\"]}"},
    {"role": "user", "content": "Is this Mika? 🐉 \"image-0\""},
]
BODY = {"model": "qwen2.5vl:7b", "messages": MESSAGES, "stream": False, "keep_alive": "10m",
        "options": {"num_ctx": 8192, "temperature": 0.2}, "format": {"type": "object"}}


def encoded(body: dict) -> dict:
    return json.loads(json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False))


@pytest.mark.parametrize("images", [[], [b""], [os.urandom(5)], [os.urandom(2_000_000), b"\x89PNG\r\n\x00\xff"]])
def test_is_the_document_with_the_images_as_base64_on_the_last_user_message(images):
    expected = encoded(BODY)
    if images:
        expected["messages"][-1]["images"] = [base64.b64encode(image).decode("ascii") for image in images]
    assert json.loads(chat_request_body(BODY, images)) == expected
    assert "images" not in BODY["messages"][-1]  # the caller's messages are left as they were


def test_images_need_a_user_message():
    with pytest.raises(ValueError, match="user message"):
        chat_request_body({"model": "m", "messages": [{"role": "system", "content": "x"}]}, [b"png"])


def test_a_value_json_cannot_write_is_refused_as_the_encoder_refuses_it():
    with pytest.raises(ValueError):
        chat_request_body({**BODY, "options": {"temperature": float("nan")}}, [b"png"])
