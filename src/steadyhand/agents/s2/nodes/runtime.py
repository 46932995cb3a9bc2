"""The live side of one S2 episode: handles the nodes use and never put in state.

:class:`Runtime` carries the :class:`~steadyhand.agents.base.EpisodeContext`, the
grounder, the knowledge base and the latest observation. Nodes receive it as their
second argument (bound by :func:`steadyhand.agents.s2.graph.build_graph`); the graph
state they return stays plain data.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_core.messages import BaseMessage

from steadyhand.agents.base import EpisodeContext, StepRecord
from steadyhand.agents.s2.action_api import CompileTarget, target_for
from steadyhand.agents.s2.grounding import Grounder
from steadyhand.agents.s2.prompts import clip, messages, screen_text
from steadyhand.agents.s2.state import NO_USAGE, Message, S2State, Settings, Usage
from steadyhand.core.actions import ActionBase
from steadyhand.core.observation import Observation, StepResult
from steadyhand.models import usage

if TYPE_CHECKING:
    from steadyhand.memory.knowledge import KnowledgeBase
    from steadyhand.safety.guards import GuardSet

RATIONALE_CHARS = 2000
HISTORY_ITEM_CHARS = 300


def add_usage(a: Usage, b: Usage) -> Usage:
    """The sum of two costs."""
    return {"input_tokens": a["input_tokens"] + b["input_tokens"],
            "output_tokens": a["output_tokens"] + b["output_tokens"], "latency_s": a["latency_s"] + b["latency_s"]}


def screen_digest(observation: Observation) -> str:
    """A short digest of the screenshot (equal digests: nothing on screen changed)."""
    return hashlib.sha1(observation.screenshot or b"", usedforsecurity=False).hexdigest()[:16]


def trimmed(history: list[Message], entry: Message, keep: int) -> list[Message]:
    """``history`` with ``entry`` appended (clipped), keeping the last ``keep`` entries."""
    item: Message = {"role": entry["role"], "content": clip(entry["content"], HISTORY_ITEM_CHARS)}
    return [*history, item][-keep:]


@dataclass
class Runtime:
    """Live handles of one episode.

    Attributes:
        ctx: the episode context (environment, model, step recorder, thread id).
        settings: the agent's settings.
        grounder: turns element descriptions into screen targets.
        knowledge: the knowledge base, or None when memory is off.
        observation: the latest observation (the screen the next action sees).
        guards: the safety guards (None: off); with injection screening on, screen text in
            prompts is spotlighted (marked as untrusted data).
    """

    ctx: EpisodeContext
    settings: Settings
    grounder: Grounder
    knowledge: KnowledgeBase | None
    observation: Observation
    invoke_options: dict[str, Any] = field(default_factory=dict)
    guards: GuardSet | None = None

    def __post_init__(self) -> None:
        try:
            self._tracker: Any = usage(self.ctx.model)
        except LookupError:
            self._tracker = None
        if not self.invoke_options:
            fields = getattr(type(self.ctx.model), "model_fields", {})
            if "max_new_tokens" in fields:  # in-process CPU models: keep replies short
                self.invoke_options = {"max_new_tokens": self.settings.max_new_tokens or 192}
            elif self.settings.max_new_tokens and "max_tokens" in fields:
                self.invoke_options = {"max_tokens": self.settings.max_new_tokens}

    @property
    def platform(self) -> str:
        """The device's platform as the prompts name it (``Linux`` unless the task says; ``Android`` there)."""
        return str(self.ctx.task.metadata.get("platform", "Android" if self.target == "android" else "Linux"))

    @property
    def target(self) -> CompileTarget:
        """What calls compile to in this episode: ``android`` for the android environment, else ``desktop``."""
        return target_for(self.ctx.task.environment)

    def screen(self) -> str:
        """How prompts refer to the current screen."""
        text = screen_text(self.observation, vision=self.settings.vision)
        if self.guards is not None and "injection" in self.guards.names:
            from steadyhand.safety.spotlight import spotlight

            return spotlight(text)
        return text

    def ask(self, system: str, user: str) -> tuple[str, Usage]:
        """One model call with the current screenshot attached (when the model sees images)."""
        return self._invoke(messages(system, user, self.observation, vision=self.settings.vision))

    def _invoke(self, prompt: list[BaseMessage]) -> tuple[str, Usage]:
        mark = self._tracker.mark() if self._tracker is not None else 0
        started = time.perf_counter()
        reply = self.ctx.model.invoke(prompt, **self.invoke_options)
        latency = time.perf_counter() - started
        meta = getattr(reply, "usage_metadata", None) or {}
        cost: Usage = {"input_tokens": int(meta.get("input_tokens", 0)),
                       "output_tokens": int(meta.get("output_tokens", 0)), "latency_s": latency}
        if self._tracker is not None and len(self._tracker.calls) - mark == 1:
            tokens_in, tokens_out, tracked = self._tracker.since(mark)
            cost = {"input_tokens": tokens_in, "output_tokens": tokens_out, "latency_s": tracked or latency}
        content = reply.content
        text = content if isinstance(content, str) else "".join(
            p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
        return text, cost

    def step(self, state: S2State, action: ActionBase, *, rationale: str,
             grounding: list[dict[str, Any]]) -> StepResult:
        """Run ``action``, record it (with the screenshot it was chosen on) and observe the result."""
        before = self.observation
        started = time.perf_counter()
        result = self.ctx.env.step(action)
        env_s = time.perf_counter() - started
        cost = state.get("pending", NO_USAGE)
        verdicts = list(state.get("verdicts", []))
        if self.guards is not None:
            tokens = cost["input_tokens"] + cost["output_tokens"]
            verdicts += [v.model_dump() for v in self.guards.after(action, before, result.observation, tokens=tokens)]
        self.ctx.record_step(StepRecord(
            index=state.get("steps", 0),
            action=action.model_dump(),
            rationale=clip(rationale, RATIONALE_CHARS),
            observation=result.observation.summary(),
            reward=result.reward,
            duration_s=env_s + cost["latency_s"],
            model_latency_s=cost["latency_s"],
            input_tokens=cost["input_tokens"],
            output_tokens=cost["output_tokens"],
            grounding=grounding,
            guard_verdicts=verdicts,
            screenshot=before.screenshot,
        ))
        self.observation = result.observation
        return result
