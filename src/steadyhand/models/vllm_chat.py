"""vLLM's offline engine as a chat model (``vllm:<model>``), for GPU machines.

vllm is imported only when such a model is built; nothing else depends on it.
To talk to a running vLLM server, use ``openai:<model>@http://host:port/v1`` instead.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from steadyhand.core.errors import ConfigurationError


class VLLMChatModel(BaseChatModel):
    """Runs ``model`` in-process with vLLM's ``LLM.chat``."""

    model: str
    max_tokens: int = 512
    temperature: float = 0.0
    _engine: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "steadyhand-vllm"

    def _get_engine(self) -> Any:
        if self._engine is None:
            if importlib.util.find_spec("vllm") is None:
                raise ConfigurationError("vllm is not installed; it runs on GPU machines only")
            import vllm

            self._engine = vllm.LLM(model=self.model)
        return self._engine

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        import vllm

        engine = self._get_engine()
        chat = [{"role": "system" if isinstance(m, SystemMessage) else
                 "user" if isinstance(m, HumanMessage) else "assistant", "content": m.content}
                for m in messages]
        params = vllm.SamplingParams(max_tokens=self.max_tokens, temperature=self.temperature, stop=stop)
        output = engine.chat(chat, params)[0]
        n_in = len(output.prompt_token_ids or [])
        n_out = len(output.outputs[0].token_ids)
        message = AIMessage(content=output.outputs[0].text, usage_metadata={
            "input_tokens": n_in, "output_tokens": n_out, "total_tokens": n_in + n_out})
        return ChatResult(generations=[ChatGeneration(message=message)])
