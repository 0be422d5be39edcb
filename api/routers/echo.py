"""Chat and prompt enhancement through Echo (or Ollama when Echo is not configured).

`POST /echo/chat {messages}` -> {response, backend}; `POST /echo/enhance {prompt, character_name?, style?}`
-> {prompt, backend}. Service unreachable 503, service error 502.
"""

from typing import Literal

from fastapi import APIRouter
from pydantic import Field

from api.deps import Echo
from api.lazy_route import LazyAPIRoute
from api.schemas.base import ApiInput

router = APIRouter(prefix="/echo", tags=["echo"], route_class=LazyAPIRoute)


class ChatMessage(ApiInput):
    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=100_000)


class ChatRequest(ApiInput):
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)


class EnhanceRequest(ApiInput):
    prompt: str = Field(min_length=1, max_length=10_000)
    character_name: str | None = Field(None, max_length=200)
    style: str | None = Field(None, max_length=200)


@router.post("/chat")
async def chat(request: ChatRequest, echo: Echo) -> dict:
    response = await echo.chat([m.model_dump() for m in request.messages])
    return {"response": response, "backend": echo.backend}


@router.post("/enhance")
async def enhance(request: EnhanceRequest, echo: Echo) -> dict:
    prompt = await echo.enhance_prompt(request.prompt, character_name=request.character_name, style=request.style)
    return {"prompt": prompt, "backend": echo.backend}
