"""The ``openai:`` provider: langchain-openai's client with transport failures sorted out.

A model server that times out, refuses connections, answers 5xx or rate-limits
after the client's own retries is infrastructure, not the agent's doing: calls
raise :class:`~steadyhand.core.errors.ModelServerFault` (the client's exception is
its ``__cause__``), which agents let through and the runner retries. Everything
else (a 400 for a malformed request, a 401 for a bad key) propagates unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import openai
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_openai import ChatOpenAI

from steadyhand.core.errors import ModelServerFault

#: The client errors that mean the server, not the request, failed.
SERVER_FAILURES: tuple[type[Exception], ...] = (
    openai.APIConnectionError,  # includes APITimeoutError
    openai.InternalServerError,
    openai.RateLimitError,
)


class ServerChatOpenAI(ChatOpenAI):
    """``ChatOpenAI`` whose server failures raise :class:`ModelServerFault`."""

    def _fault(self, exc: Exception) -> ModelServerFault:
        where = self.openai_api_base or "the OpenAI API"
        return ModelServerFault(f"model server {where} ({self.model_name}): {type(exc).__name__}: {exc}")

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        try:
            return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)
        except SERVER_FAILURES as exc:
            raise self._fault(exc) from exc

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        try:
            yield from super()._stream(messages, stop=stop, run_manager=run_manager, **kwargs)
        except SERVER_FAILURES as exc:
            raise self._fault(exc) from exc

    async def _agenerate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                         run_manager: AsyncCallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        try:
            return await super()._agenerate(messages, stop=stop, run_manager=run_manager, **kwargs)
        except SERVER_FAILURES as exc:
            raise self._fault(exc) from exc

    async def _astream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                       run_manager: AsyncCallbackManagerForLLMRun | None = None,
                       **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        try:
            async for chunk in super()._astream(messages, stop=stop, run_manager=run_manager, **kwargs):
                yield chunk
        except SERVER_FAILURES as exc:
            raise self._fault(exc) from exc
