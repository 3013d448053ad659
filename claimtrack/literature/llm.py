"""The chat model behind extraction and stance suggestions, chosen by ``CLAIMTRACK_LLM``.

    none                      no LLM (default): the offline heuristics are used
    ollama:MODEL              a local Ollama through its OpenAI-compatible API
                              (``$OLLAMA_HOST``, default http://127.0.0.1:11434, + /v1)
    openai:MODEL@BASE_URL     any OpenAI-compatible ``/chat/completions`` endpoint, e.g.
                              openai:gpt-4o-mini@https://api.openai.com/v1 (key: $OPENAI_API_KEY)

``OpenAICompatibleChat`` is a small langchain-core ``BaseChatModel`` over httpx, so no provider
package is needed; tests use langchain-core's fake chat models instead.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, Field

from claimtrack.graph.errors import ClaimtrackError, InputError

_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


class LLMError(ClaimtrackError):
    """The configured chat model could not be reached or answered unusably."""


class OpenAICompatibleChat(BaseChatModel):
    """Chat completions from an OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, llama.cpp)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model: str = Field(description="model name as the endpoint knows it")
    base_url: str = Field(description="API root, e.g. http://127.0.0.1:11434/v1")
    api_key: str | None = None
    temperature: float = 0.0
    timeout: float = 120.0
    json_mode: bool = Field(default=True, description="ask for a JSON object response")
    client: httpx.Client | None = Field(default=None, exclude=True, description="injected for tests")

    @property
    def _llm_type(self) -> str:
        return "openai-compatible"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "base_url": self.base_url}

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        payload: dict[str, Any] = {
            "model": self.model, "temperature": self.temperature,
            "messages": [{"role": _ROLES.get(m.type, "user"), "content": m.content} for m in messages],
        }
        if stop:
            payload["stop"] = stop
        if self.json_mode:
            payload["response_format"] = {"type": "json_object"}
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        url = self.base_url.rstrip("/") + "/chat/completions"
        client = self.client or httpx.Client(timeout=self.timeout)
        try:
            resp = client.post(url, json=payload, headers=headers)
            resp.raise_for_status()
            data = resp.json()
            text = data["choices"][0]["message"]["content"] or ""
        except httpx.HTTPStatusError as exc:
            raise LLMError(f"chat model {self.model} at {url}: HTTP {exc.response.status_code}") from None
        except httpx.HTTPError as exc:
            raise LLMError(f"cannot reach chat model {self.model} at {url}: {type(exc).__name__}") from None
        except (KeyError, IndexError, ValueError):
            raise LLMError(f"chat model {self.model} at {url} answered in an unexpected shape") from None
        finally:
            if self.client is None:
                client.close()
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def chat_model(spec: str) -> BaseChatModel | None:
    """The chat model for a ``CLAIMTRACK_LLM`` spec, or None for ``none``."""
    spec = spec.strip()
    if spec in ("", "none"):
        return None
    kind, _, rest = spec.partition(":")
    if kind == "ollama" and rest:
        host = os.environ.get("OLLAMA_HOST") or "http://127.0.0.1:11434"
        if not host.startswith("http"):
            host = "http://" + host
        return OpenAICompatibleChat(model=rest, base_url=host.rstrip("/") + "/v1")
    if kind == "openai" and "@" in rest:
        model, _, base = rest.partition("@")
        if model and base.startswith(("http://", "https://")):
            return OpenAICompatibleChat(model=model, base_url=base,
                                        api_key=os.environ.get("OPENAI_API_KEY"))
    raise InputError(f"CLAIMTRACK_LLM={spec!r} is not understood; use 'none', 'ollama:MODEL' "
                     "or 'openai:MODEL@BASE_URL'")


def model_name(model: BaseChatModel) -> str:
    """A short provenance label for a chat model ('ollama-model', 'fake', ...)."""
    params = model._identifying_params
    return str(params.get("model") or params.get("model_name") or model._llm_type)
