"""Deterministic chat models for tests and demos.

A script is a YAML or JSON file::

    rules:                      # tried in order; the first whose pattern matches wins
      - when: "How many singers"   # regex searched in the last human message
        in: last                   # or "all": the whole conversation
        reply: "```sql\\nSELECT count(*) FROM singer\\n```"
      - when: "Result rows"
        reply: SUBMIT
    replies: ["first", "second"]   # used in order when no rule matches
    default: "I don't know."       # when rules and replies are exhausted

A rule may give ``replies`` (a list consumed in order per rule) instead of ``reply``.
With neither a matching rule, a reply left, nor a default, the model raises
:class:`~steadyhand.core.errors.ModelOutputError` so a test sees the gap.

``scripted:<file>?delay_s=0.2`` makes every call take that long, to stand in for a
model server's latency in runner tests and benchmarks.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import yaml
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from steadyhand.core.errors import ConfigurationError, ModelOutputError


class ScriptRule(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    when: str
    scope: str = Field("last", alias="in", pattern="^(last|all)$")
    reply: str | None = None
    replies: list[str] | None = None


class Script(BaseModel):
    """The parsed content of a script file."""

    model_config = ConfigDict(extra="forbid")

    rules: list[ScriptRule] = Field(default_factory=list)
    replies: list[str] = Field(default_factory=list)
    default: str | None = None

    @classmethod
    def from_file(cls, path: str | Path) -> Script:
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigurationError(f"scripted model: cannot read {path}: {exc}") from exc
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        if isinstance(data, list):
            data = {"replies": data}
        try:
            return cls.model_validate(data or {})
        except Exception as exc:
            raise ConfigurationError(f"scripted model: {path} is not a valid script: {exc}") from exc


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)


def count_tokens(text: str) -> int:
    """A cheap, stable token estimate for scripted calls (whitespace words)."""
    return len(text.split())


class ScriptedChatModel(BaseChatModel):
    """Replies from a :class:`Script`, deterministically. For tests and demos."""

    script: Script
    name_: str = "scripted"
    delay_s: float = 0.0
    _cursor: int = PrivateAttr(default=0)
    _rule_cursors: dict[int, int] = PrivateAttr(default_factory=dict)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "steadyhand-scripted"

    def _reply(self, messages: list[BaseMessage]) -> str:
        humans = [m for m in messages if isinstance(m, HumanMessage)]
        last = _text(humans[-1]) if humans else (_text(messages[-1]) if messages else "")
        everything = "\n".join(_text(m) for m in messages)
        with self._lock:
            for i, rule in enumerate(self.script.rules):
                haystack = last if rule.scope == "last" else everything
                if re.search(rule.when, haystack, flags=re.DOTALL):
                    if rule.reply is not None:
                        return rule.reply
                    if rule.replies:
                        k = self._rule_cursors.get(i, 0)
                        self._rule_cursors[i] = k + 1
                        return rule.replies[min(k, len(rule.replies) - 1)]
            if self._cursor < len(self.script.replies):
                self._cursor += 1
                return self.script.replies[self._cursor - 1]
        if self.script.default is not None:
            return self.script.default
        raise ModelOutputError(f"scripted model has no reply for: {last[:200]!r}")

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        if self.delay_s > 0:
            time.sleep(self.delay_s)
        text = self._reply(messages)
        prompt_tokens = sum(count_tokens(_text(m)) for m in messages)
        message = AIMessage(
            content=text,
            usage_metadata={"input_tokens": prompt_tokens, "output_tokens": count_tokens(text),
                            "total_tokens": prompt_tokens + count_tokens(text)},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])
