"""The Echo client: chat and prompt enhancement, with Ollama as the fallback.

Echo's HTTP contract is ASSUMED here (no captured responses from a real Echo server exist yet):

    POST {url}/api/echo/chat            {"messages": [{"role", "content"}...], "model": str}
                                        -> 200 {"response": str}
    POST {url}/api/echo/enhance-prompt  {"prompt": str, "context": {"character_name"?, "style"?}}
                                        -> 200 {"prompt": str}
    GET  {url}/api/echo/health          -> 2xx when the service is up

Any other status is an error; a JSON body {"error"|"detail": ...} is quoted in the message.
When `url` is empty Echo is "not configured": chat goes to Ollama's `POST /api/chat` (stream false)
with `model`, and prompt enhancement becomes a chat with a fixed instruction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.clients.http import http_client
from studio.clients.ollama import OllamaClient, OllamaError

if TYPE_CHECKING:
    import httpx  # imported where a call is made (studio/clients/http.py says why)

ENHANCE_INSTRUCTION = (
    "You improve image-generation prompts for an anime production. Rewrite the prompt so it is more "
    "specific and visual (subject, pose, framing, lighting, style tags), keep every fact it states, "
    "add nothing that contradicts it, and answer with the rewritten prompt only, on one line."
)


class EchoError(RuntimeError):
    """Echo (or Ollama in its place) answered, but not with a usable reply."""


class EchoUnavailable(EchoError):
    """The service could not be reached at all."""


def _error_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("error") or body.get("detail") or body)[:200]
    return str(body)[:200]


class EchoClient:
    def __init__(self, url: str = "", *, model: str = "qwen2.5:7b", ollama_url: str = "http://127.0.0.1:11434",
                 connect_timeout_s: float = 2.0, timeout_s: float = 120.0):
        self.url = url.strip().rstrip("/")  # empty: not configured, use Ollama
        self.model, self.ollama_url = model, ollama_url
        self.connect_timeout_s, self.timeout_s = connect_timeout_s, timeout_s

    @property
    def configured(self) -> bool:
        return bool(self.url)

    @property
    def backend(self) -> str:
        return "echo" if self.configured else "ollama"

    def _ollama(self) -> OllamaClient:
        return OllamaClient(self.ollama_url, text_model=self.model, timeout_s=self.timeout_s)

    async def _post_echo(self, path: str, body: dict, answer_field: str) -> str:
        import httpx

        timeout = httpx.Timeout(self.timeout_s, connect=self.connect_timeout_s)
        async with http_client(self.url, timeout) as client:
            try:
                response = await client.post(path, json=body)
            except httpx.HTTPError as exc:
                raise EchoUnavailable(f"cannot reach Echo at {self.url}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise EchoError(f"Echo {path} answered {response.status_code}: {_error_detail(response)}")
        try:
            answer = response.json()[answer_field]
        except (ValueError, KeyError, TypeError):
            raise EchoError(f"Echo {path} answered without a {answer_field!r} field") from None
        if not isinstance(answer, str):
            raise EchoError(f"Echo {path}: {answer_field!r} is not a string")
        return answer

    async def _ollama_chat(self, messages: list[dict]) -> str:
        try:
            reply = await self._ollama().chat(self.model, messages)
        except OllamaError as exc:
            unreachable = str(exc).startswith("cannot reach")
            raise (EchoUnavailable if unreachable else EchoError)(f"Echo not configured; Ollama: {exc}") from None
        if reply.truncated:
            raise EchoError(f"Ollama's answer was cut off (done_reason=length, model {reply.model})")
        return reply.content

    async def chat(self, messages: list[dict]) -> str:
        """The assistant's reply to a conversation ([{"role": "user"|"system"|"assistant", "content": ...}])."""
        if self.configured:
            return await self._post_echo("/api/echo/chat", {"messages": messages, "model": self.model}, "response")
        return await self._ollama_chat(messages)

    async def enhance_prompt(self, prompt: str, *, character_name: str | None = None,
                             style: str | None = None) -> str:
        """A richer version of an image prompt, optionally in the context of a character and a style."""
        context = {k: v for k, v in (("character_name", character_name), ("style", style)) if v}
        if self.configured:
            return (await self._post_echo("/api/echo/enhance-prompt", {"prompt": prompt, "context": context},
                                          "prompt")).strip()
        details = "".join(f"\n{key.replace('_', ' ')}: {value}" for key, value in context.items())
        messages = [{"role": "system", "content": ENHANCE_INSTRUCTION},
                    {"role": "user", "content": f"prompt: {prompt}{details}"}]
        return (await self._ollama_chat(messages)).strip()

    async def healthy(self, timeout_s: float = 1.5) -> bool:
        """Whether Echo answers its health route; False when not configured."""
        import httpx

        if not self.configured:
            return False
        try:
            async with http_client(self.url, timeout_s) as client:
                return (await client.get("/api/echo/health")).is_success
        except httpx.HTTPError:
            return False
