"""Chat and prompt enhancement through Echo (or Ollama when Echo is not configured).

`POST /echo/chat {messages}` -> {response, backend}; `POST /echo/enhance {prompt, character_name?, style?}`
-> {prompt, backend}. Service unreachable 503, service error 502.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from api.services import echo_resource
from resources.echo import EchoError, EchoResource, EchoUnavailable

router = APIRouter(prefix="/echo", tags=["echo"])


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=100_000)


class ChatRequest(BaseModel):
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)


class EnhanceRequest(BaseModel):
    prompt: str = Field(min_length=1, max_length=10_000)
    character_name: str | None = Field(None, max_length=200)
    style: str | None = Field(None, max_length=200)


async def get_echo() -> EchoResource:
    return echo_resource()


def _http_error(exc: EchoError) -> HTTPException:
    return HTTPException(status_code=503 if isinstance(exc, EchoUnavailable) else 502, detail=str(exc))


@router.post("/chat")
async def chat(request: ChatRequest, echo: EchoResource = Depends(get_echo)) -> dict:
    try:
        response = await echo.chat([m.model_dump() for m in request.messages])
    except EchoError as exc:
        raise _http_error(exc) from None
    return {"response": response, "backend": echo.backend}


@router.post("/enhance")
async def enhance(request: EnhanceRequest, echo: EchoResource = Depends(get_echo)) -> dict:
    try:
        prompt = await echo.enhance_prompt(request.prompt, character_name=request.character_name,
                                           style=request.style)
    except EchoError as exc:
        raise _http_error(exc) from None
    return {"prompt": prompt, "backend": echo.backend}
