"""Agent S2 (agent ``s2``): manager/worker with Proactive Hierarchical Planning, reflection,
Mixture-of-Grounding and a knowledge base of past experience."""

from __future__ import annotations

import json
import re
from functools import partial
from typing import TYPE_CHECKING, Any

import yaml
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from steadyhand.agents.base import AgentOutcome, EpisodeContext
from steadyhand.agents.s2.action_api import CompileTarget, target_for
from steadyhand.agents.s2.graph import build_graph, recursion_limit
from steadyhand.agents.s2.grounding import Grounder, android_grounding, build_grounder
from steadyhand.agents.s2.nodes import Runtime
from steadyhand.agents.s2.state import S2State, Settings
from steadyhand.core import InfrastructureFault, Observation, agents
from steadyhand.core.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Callable

    from steadyhand.core import Score
    from steadyhand.memory.knowledge import KnowledgeBase
    from steadyhand.safety.guards import GuardSet


_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def parse_grounding(value: dict[str, Any] | str | None) -> dict[str, str]:
    """The ``grounding`` option as ``{expert: spec}``.

    Accepts a mapping, its YAML/JSON text (``{textual: tesseract}``), or
    ``NAME=SPEC[,NAME=SPEC...]`` (``NAME`` alone means the expert's defaults).

    Raises:
        ConfigurationError: anything else.
    """
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("{", "[")):
            try:
                value = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise ConfigurationError(f"grounding option {text!r} is not a mapping: {exc}") from exc
        else:
            pairs = [p.strip() for p in text.split(",") if p.strip()]
            value = {name.strip(): spec.strip() for name, _, spec in (p.partition("=") for p in pairs)}
    if not isinstance(value, dict) or not all(isinstance(k, str) and _NAME.match(k) for k in value):
        raise ConfigurationError(f"grounding must map expert names to specs, got {value!r}")
    return {name: "" if spec is None else str(spec) for name, spec in value.items()}


@agents.register("s2")
class S2Agent:
    """Agent S2 on desktops: a manager plans subgoals, a worker acts on them one call at a time.

    Each episode is one LangGraph graph (:mod:`steadyhand.agents.s2.graph`): the manager
    writes a plan (validated, retried when malformed); only its head subgoal runs; after
    each subgoal is done or failed the manager replans on the fresh screen; the worker
    makes one action-API call per turn after a reflection that flags loops and drift;
    each call is grounded by the Mixture of Grounding and compiled into a desktop action (or,
    in the ``android`` environment, an ``android.*`` action, with ``android_ui`` grounding first);
    a final DONE is checked by the manager against the task.

    Args:
        grounding: the grounding experts, ``{name: spec}`` (or its YAML text, or
            ``name=spec,...``), tried in that order; e.g. ``{textual: tesseract}``.
        grounding_order: per action kind, the experts to try in order (``{click: [accessibility, textual]}``
            or ``"click=accessibility,textual;type=textual"``); kinds not given use the router's defaults.
        min_confidence: grounding results below this fall through to the next expert.
        max_steps: worker turns per episode (OSWorld's step budgets: 15, 50, 100).
        max_replans: manager replans per episode; ``max_replans_per_step``: replans without an
            executed action in between.
        max_format_retries / max_plan_retries: consecutive unusable worker / manager replies
            shown back before giving up on the subgoal / plan.
        max_done_checks: completion checks before a disputed DONE ends the episode truncated.
        reflection: model reflection before each turn (the loop check always runs).
        vision: attach screenshots to model calls; default: only for OpenAI-compatible models.
        history: worker turns kept in the prompt.
        max_new_tokens: reply length limit for models that take one.
        knowledge: the knowledge base's database URL, True for the default store, False for none.
        embedder: the embedding model for the knowledge base (``minilm``, ``hashing``).
        knowledge_threshold: least cosine similarity for a retrieved experience.
        knowledge_top_k: experiences retrieved per query.
        write_knowledge: write narrative and episodic experience after each episode.
        guards: safety guards between grounding and acting (:mod:`steadyhand.safety`): ``all``, ``none``
            (the default) or a comma list of injection, policy, loop, budget, screen.
        policy: the action policy (a YAML file, YAML text or a mapping); the built-in rules when None.
        approve: how actions the policy wants confirmed are settled: ``ask`` (the graph interrupts; a
            confirmer set with :meth:`use_confirmer` answers, else the episode stops, resumable),
            ``deny`` or ``allow`` (unattended runs).
        guard_classifier: a model spec for the injection classifier (rules only when None).
        guard_ocr: an OCR engine (``tesseract``) with which the injection guard reads screenshots,
            so text with no accessibility counterpart (desktop pop-ups) is screened too.
        max_seconds / max_tokens: time and token budgets the budget guard enforces.

    ``run`` never raises for what a model says; :class:`~steadyhand.core.InfrastructureFault`
    propagates (the runner handles infrastructure). Checkpoints (``ctx.checkpointer``, thread
    ``ctx.thread_id``, written after every node) make runs resumable as in the SQL agent: a
    finished thread returns its stored outcome and does nothing; an unfinished one resumes
    at the node that did not complete, so earlier model calls and actions are not repeated
    (the node that was running may record its step again: at-least-once). When resuming,
    pass as ``first`` the screen as it is now: the next turn is chosen on it.

    After each episode (not after a replay of a finished one) the narrative experience and
    one episodic experience per finished subgoal are written to the knowledge base, keyed by
    the thread id, so writing an episode again replaces its entries.
    """

    name = "s2"

    def __init__(self, grounding: dict[str, Any] | str | None = None,
                 grounding_order: dict[str, list[str]] | str | None = None, min_confidence: float = 0.5,
                 max_steps: int = 15, max_replans: int = 20, max_replans_per_step: int = 3,
                 max_format_retries: int = 2, max_plan_retries: int = 2, max_done_checks: int = 2,
                 reflection: bool = True, vision: bool | None = None, history: int = 6,
                 max_new_tokens: int | None = None, knowledge: bool | str = True, embedder: str = "minilm",
                 knowledge_threshold: float = 0.45, knowledge_top_k: int = 1, write_knowledge: bool = True,
                 guards: str | list[str] | bool | None = None, policy: Any = None, approve: str = "ask",
                 guard_classifier: str | None = None, max_seconds: float | None = None,
                 max_tokens: int | None = None, guard_ocr: str | None = None) -> None:
        if max_steps < 1 or max_replans < 0 or max_replans_per_step < 1 or max_format_retries < 0 \
                or max_plan_retries < 0 or max_done_checks < 1 or history < 1 or knowledge_top_k < 1:
            raise ConfigurationError(
                "s2 agent: need max_steps >= 1, max_replans >= 0, max_replans_per_step >= 1, "
                "max_format_retries >= 0, max_plan_retries >= 0, max_done_checks >= 1, history >= 1, "
                "knowledge_top_k >= 1")
        self.experts = parse_grounding(grounding)
        if isinstance(grounding_order, str):
            from steadyhand.tools.grounding.router import parse_order

            grounding_order = parse_order(grounding_order)
        self.grounding_order = grounding_order or {}
        self.min_confidence = min_confidence
        self.vision = vision
        self.settings = Settings(max_steps=max_steps, max_replans=max_replans,
                                 max_replans_per_step=max_replans_per_step, max_format_retries=max_format_retries,
                                 max_plan_retries=max_plan_retries, max_done_checks=max_done_checks,
                                 reflection=reflection, history=history, max_new_tokens=max_new_tokens,
                                 knowledge_top_k=knowledge_top_k)
        self.knowledge_url = knowledge
        self.embedder = embedder
        self.knowledge_threshold = knowledge_threshold
        self.write_knowledge = write_knowledge
        from steadyhand.safety.guards import GuardSet

        self.guards: GuardSet | None = GuardSet.from_options(
            guards, policy=policy, approve=approve, classifier=guard_classifier, max_seconds=max_seconds,
            max_tokens=max_tokens, ocr=guard_ocr)
        self._confirm: Callable[[dict[str, Any]], Any] | None = None
        self._grounder: Grounder | None = None
        self._grounders: dict[str, Grounder] = {}
        self._knowledge: KnowledgeBase | None = None

    def __repr__(self) -> str:
        return (f"S2Agent(grounding={self.experts!r}, max_steps={self.settings.max_steps}, "
                f"knowledge={self.knowledge_url!r}, embedder={self.embedder!r})")

    # --- live handles, built once per agent ---------------------------------------------------

    def grounder(self, target: CompileTarget = "desktop") -> Grounder:
        """The grounder over the configured experts for ``target`` (built on first use).

        On Android the ``android_ui`` expert is tried first, then the configured ones
        (:func:`~steadyhand.agents.s2.grounding.android_grounding`).
        """
        if self._grounder is not None:
            return self._grounder
        if target not in self._grounders:
            experts, order = self.experts, dict(self.grounding_order)
            if target == "android":
                experts, order = android_grounding(experts, order)
            self._grounders[target] = build_grounder(experts, order=order, min_confidence=self.min_confidence)
        return self._grounders[target]

    def use_grounder(self, grounder: Grounder) -> None:
        """Use ``grounder`` (on every target) instead of building one from the ``grounding`` option."""
        self._grounder = grounder

    def use_confirmer(self, confirm: Callable[[dict[str, Any]], Any] | None) -> None:
        """Answer confirmations (``approve=ask``) with ``confirm(request)``: the request has the
        ``action``, the worker's ``call`` and the ``reasons``; a true answer (or yes/allow) lets it run."""
        self._confirm = confirm

    def knowledge(self, store_url: str | None = None) -> KnowledgeBase | None:
        """The knowledge base, or None when ``knowledge`` is False (opened on first use).

        With ``knowledge=True`` it lives in the run's result store (``store_url``, the
        runner's ``--db``) or, outside the runner, in the default store.
        """
        if self.knowledge_url is False:
            return None
        if self._knowledge is None:
            from steadyhand.memory.knowledge import KnowledgeBase

            url = self.knowledge_url if isinstance(self.knowledge_url, str) else store_url
            self._knowledge = KnowledgeBase(url, embedder=self.embedder, threshold=self.knowledge_threshold,
                                            top_k=self.settings.knowledge_top_k)
        return self._knowledge

    def _settings_for(self, ctx: EpisodeContext) -> Settings:
        vision = self.vision
        if vision is None:
            vision = "openai" in type(ctx.model).__name__.lower()
        from dataclasses import replace

        return replace(self.settings, vision=vision)

    # --- one episode --------------------------------------------------------------------------

    def run(self, ctx: EpisodeContext, first: Observation) -> AgentOutcome:
        """Solve ``ctx.task`` from ``first`` (the observation ``ctx.env.reset`` returned)."""
        try:
            grounder = self.grounder(target_for(ctx.task.environment))
            knowledge = self.knowledge(ctx.store_url)
        except ConfigurationError as exc:
            return AgentOutcome(status="error", steps=0, error=str(exc))
        settings = self._settings_for(ctx)
        if self.guards is not None:
            self.guards.reset()
        rt = Runtime(ctx=ctx, settings=settings, grounder=grounder, knowledge=knowledge, observation=first,
                     guards=self.guards)
        checkpointer = ctx.checkpointer if ctx.checkpointer is not None else InMemorySaver()
        graph = build_graph(rt).compile(checkpointer=checkpointer)
        config: RunnableConfig = {"configurable": {"thread_id": ctx.thread_id},
                                  "recursion_limit": recursion_limit(settings)}
        snapshot = graph.get_state(config)
        if snapshot.values and not snapshot.next:  # finished before: nothing is asked or done again
            return outcome(snapshot.values)
        inputs: Any = None if snapshot.next else {"turns": 0}
        try:
            while True:
                pending = [i.value for i in graph.get_state(config).interrupts] if snapshot.next else []
                if pending and self._confirm is not None:
                    inputs = Command(resume=self._confirm(pending[0]))
                elif pending:
                    return AgentOutcome(status="truncated", steps=int(snapshot.values.get("steps", 0)),
                                        error=f"waiting for confirmation: {pending[0]}")
                values = graph.invoke(inputs, config, durability="sync")
                inputs, snapshot = None, graph.get_state(config)
                if not snapshot.next:
                    break
        except InfrastructureFault:
            raise
        except Exception as exc:  # a model or graph failure: report it, keep the checkpoint
            state = graph.get_state(config).values
            return AgentOutcome(status="error", steps=int(state.get("steps", 0)),
                                error=f"{type(exc).__name__}: {exc}")
        result = outcome(values)
        if knowledge is not None and self.write_knowledge:
            write = partial(remember, knowledge, values, result, source=ctx.thread_id)
            if ctx.scored:  # label the experience with the evaluation, not the agent's own verdict
                ctx.after_scoring.append(lambda score: write(score=score))
            else:
                write()
        return result


def outcome(values: dict[str, Any]) -> AgentOutcome:
    """The :class:`AgentOutcome` a finished graph state stands for."""
    steps = int(values.get("steps", 0))
    status = values.get("status")
    if status == "error":
        return AgentOutcome(status="error", steps=steps, error=values.get("error") or "the agent could not go on")
    final = values.get("final")
    if status == "terminated":
        return AgentOutcome(status="terminated", steps=steps, final_answer=final)
    return AgentOutcome(status="truncated", steps=steps,
                        error=values.get("error") or "the step budget ran out before the task was done")


def remember(knowledge: KnowledgeBase, values: S2State | dict[str, Any], result: AgentOutcome, *,
             source: str, score: Score | None = None) -> None:
    """Write the episode's narrative experience and one episodic experience per finished subgoal.

    With the episode's ``score`` the narrative's outcome is the evaluation's (``success``
    at score 1, else ``failure (score S)``), so a confident but wrong episode is not
    remembered as a way to succeed; without one it is the agent's own verdict.
    """
    ended = values.get("final") or result.status
    if score is not None:
        ended = f"{ended}; evaluated: " + ("success" if score.value >= 1.0 else f"failure (score {score.value:.2f})")
    finished = list(values.get("finished") or [])
    lines = [f"{i}. [{s['status']}] {s['name']}: " + ("; ".join(s["actions"]) or "no actions")
             for i, s in enumerate(finished, 1)]
    notes = list(values.get("notes") or [])
    narrative = "\n".join([*lines, *(["Notes: " + json.dumps(notes)] if notes else []), f"Ended: {ended}"])
    task = str(values.get("task") or "")
    if task:
        knowledge.add_narrative(task, narrative, outcome=str(ended), source=source)
    for s in finished:
        if s["actions"]:
            key = f"{s['name']}. {s.get('info', '')}".strip()
            knowledge.add_episodic(key, "; ".join(s["actions"]), outcome=s["status"], source=source)
