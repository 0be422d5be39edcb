"""EchoClient against the Echo double, its Ollama fallback against the Ollama double, and /echo routes."""

from __future__ import annotations

import functools

import socket

import httpx
import pytest

from api.routers import echo as echo_routes
from studio.clients.echo import EchoError, EchoClient, EchoUnavailable
from tests.api_server import serve_with_env
from tests.doubles.echo import EchoDouble
from tests.doubles.ollama import OllamaDouble

MODEL = "qwen2.5:7b"


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def echo():
    with EchoDouble() as double:
        yield double


async def test_chat_posts_messages_and_model_to_echo(echo):
    resource = EchoClient(url=echo.url, model=MODEL)
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]
    assert await resource.chat(messages) == "echo: hello"
    assert echo.requests == [("/api/echo/chat", {"messages": messages, "model": MODEL})]


async def test_enhance_prompt_sends_context_to_echo(echo):
    resource = EchoClient(url=echo.url)
    enhanced = await resource.enhance_prompt("girl in raincoat", character_name="Mika", style="soft-cel")
    assert enhanced == "girl in raincoat, Mika, soft-cel, masterpiece"
    context = {"character_name": "Mika", "style": "soft-cel"}
    assert echo.requests[-1] == ("/api/echo/enhance-prompt", {"prompt": "girl in raincoat", "context": context})
    await resource.enhance_prompt("lighthouse")
    assert echo.requests[-1][1]["context"] == {}


async def test_echo_errors_are_one_line_messages(echo):
    resource = EchoClient(url=echo.url)
    echo.fail_next(500)
    with pytest.raises(EchoError, match=r"^Echo /api/echo/chat answered 500: scripted failure 500$"):
        await resource.chat([{"role": "user", "content": "hi"}])
    with pytest.raises(EchoUnavailable, match="cannot reach Echo"):
        await EchoClient(url=_closed_port_url()).chat([{"role": "user", "content": "hi"}])


async def test_health_probe(echo):
    assert await EchoClient(url=echo.url).healthy()
    echo.healthy = False
    assert not await EchoClient(url=echo.url).healthy()
    assert not await EchoClient().healthy()  # not configured


async def test_not_configured_falls_back_to_ollama_chat():
    # The Ollama double "writes" JSON; a chat model's free text passes through unchanged all the same.
    with OllamaDouble(models=(MODEL,), answer=lambda request: {"text": "hi from ollama"}) as ollama:
        resource = EchoClient(url="", model=MODEL, ollama_url=ollama.url)
        assert resource.backend == "ollama"
        reply = await resource.chat([{"role": "user", "content": "hello"}])
        enhanced = await resource.enhance_prompt("girl in raincoat", character_name="Mika")
    assert reply == '{"text": "hi from ollama"}'
    chat_request, enhance_request = ollama.requests
    assert chat_request["model"] == MODEL and chat_request["stream"] is False
    assert chat_request["messages"] == [{"role": "user", "content": "hello"}]
    assert enhance_request["messages"][0]["role"] == "system"
    assert "girl in raincoat" in enhance_request["messages"][1]["content"]
    assert "character name: Mika" in enhance_request["messages"][1]["content"]
    assert enhanced == '{"text": "hi from ollama"}'


async def test_fallback_reports_unknown_model_and_unreachable_ollama():
    with OllamaDouble(models=("other:1b",)) as ollama:
        with pytest.raises(EchoError, match="Echo not configured; Ollama: model 'qwen2.5:7b' not found"):
            await EchoClient(model=MODEL, ollama_url=ollama.url).chat([{"role": "user", "content": "x"}])
    with pytest.raises(EchoUnavailable, match="cannot reach Ollama"):
        await EchoClient(model=MODEL, ollama_url=_closed_port_url()).chat([{"role": "user", "content": "x"}])


@pytest.fixture
def serve_echo_routes(studio_env, db_url, monkeypatch):
    """The /echo routes served with these variables set (None: unset)."""
    return functools.partial(serve_with_env, monkeypatch, db_url, echo_routes.router)


def test_echo_routes(serve_echo_routes, echo):
    with serve_echo_routes(STUDIO_ECHO_URL=echo.url) as api_url:
        _check_echo_routes(api_url, echo)


def _check_echo_routes(api_url: str, echo) -> None:
    chat = httpx.post(f"{api_url}/echo/chat", json={"messages": [{"role": "user", "content": "hi"}]})
    assert chat.status_code == 200 and chat.json() == {"response": "echo: hi", "backend": "echo"}
    enhanced = httpx.post(f"{api_url}/echo/enhance", json={"prompt": "dragon", "style": "soft-cel"})
    assert enhanced.json() == {"prompt": "dragon, soft-cel, masterpiece", "backend": "echo"}
    echo.fail_next(500)
    failed = httpx.post(f"{api_url}/echo/chat", json={"messages": [{"role": "user", "content": "hi"}]})
    assert failed.status_code == 502 and "scripted failure" in failed.json()["detail"]
    bad = httpx.post(f"{api_url}/echo/chat", json={"messages": [{"role": "robot", "content": "hi"}]})
    assert bad.status_code == 422


def test_echo_routes_without_echo_or_ollama_are_503(serve_echo_routes):
    with serve_echo_routes(STUDIO_ECHO_URL=None, STUDIO_OLLAMA_URL=_closed_port_url()) as api_url:
        response = httpx.post(f"{api_url}/echo/enhance", json={"prompt": "dragon"})
    assert response.status_code == 503
    assert response.json()["detail"].startswith("Echo not configured; Ollama: cannot reach Ollama")
