"""Token and latency accounting for every model call.

:func:`steadyhand.models.load` attaches a :class:`UsageTracker` to each model it
builds; every call, whatever the provider, appends a :class:`CallRecord`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.outputs import LLMResult


@dataclass(frozen=True)
class CallRecord:
    """One model call: tokens in and out, and wall-clock latency in seconds."""

    model: str
    input_tokens: int
    output_tokens: int
    latency_s: float


@dataclass
class UsageTracker(BaseCallbackHandler):
    """A callback handler that records every call of the model it is attached to."""

    spec: str
    calls: list[CallRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        self._started: dict[UUID, float] = {}
        self._lock = threading.Lock()

    def on_chat_model_start(self, serialized: dict[str, Any], messages: Any, *, run_id: UUID,
                            **kwargs: Any) -> None:
        self._started[run_id] = time.perf_counter()

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        started = self._started.pop(run_id, None)
        latency = time.perf_counter() - started if started is not None else 0.0
        input_tokens = output_tokens = 0
        for generations in response.generations:
            for generation in generations:
                usage = getattr(getattr(generation, "message", None), "usage_metadata", None) or {}
                input_tokens += int(usage.get("input_tokens", 0))
                output_tokens += int(usage.get("output_tokens", 0))
        if not input_tokens and not output_tokens and response.llm_output:
            usage = response.llm_output.get("token_usage") or {}
            input_tokens = int(usage.get("prompt_tokens", 0))
            output_tokens = int(usage.get("completion_tokens", 0))
        with self._lock:
            self.calls.append(CallRecord(self.spec, input_tokens, output_tokens, latency))

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._started.pop(run_id, None)

    @property
    def input_tokens(self) -> int:
        return sum(c.input_tokens for c in self.calls)

    @property
    def output_tokens(self) -> int:
        return sum(c.output_tokens for c in self.calls)

    @property
    def latency_s(self) -> float:
        return sum(c.latency_s for c in self.calls)

    def mark(self) -> int:
        """Index to pass to :meth:`since` to get the usage of what follows."""
        return len(self.calls)

    def since(self, mark: int) -> tuple[int, int, float]:
        """(input tokens, output tokens, latency seconds) of the calls after ``mark``."""
        calls = self.calls[mark:]
        return (sum(c.input_tokens for c in calls), sum(c.output_tokens for c in calls),
                sum(c.latency_s for c in calls))


def usage(model: BaseChatModel) -> UsageTracker:
    """The tracker :func:`steadyhand.models.load` attached to ``model``.

    Raises:
        LookupError: the model was not built by ``load`` and has no tracker.
    """
    for callback in model.callbacks or []:  # type: ignore[union-attr]
        if isinstance(callback, UsageTracker):
            return callback
    raise LookupError("this model has no UsageTracker; build it with steadyhand.models.load()")
