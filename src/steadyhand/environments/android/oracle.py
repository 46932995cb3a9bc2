"""Oracle solutions for Android tasks, and a minimal agent that replays them.

An oracle is a list of action dicts (the Action union's ``android.*`` kinds). A
step may name its element with ``target`` instead of ``index`` or ``x``/``y``:
``{"kind": "android.click", "target": {"text": "Wi-Fi"}}`` — at run time the
target is looked up among the current observation's UI elements (``text``,
``desc``, ``id``, ``class``; all given must match exactly) and replaced by the
element's centre (``x``/``y``; ``index`` for scrolls), as AndroidWorld's
``find_and_click_element`` does.

:class:`OracleAgent` follows the Agent protocol so the runner can drive it
(tests register it for a run); it is deliberately not registered as a built-in agent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from steadyhand.agents.base import AgentOutcome, EpisodeContext, StepRecord
from steadyhand.core.actions import ActionBase, parse_action
from steadyhand.core.errors import DatasetError
from steadyhand.core.observation import Observation, StepResult
from steadyhand.core.score import Score
from steadyhand.core.task import Task
from steadyhand.environments.android.uiautomator import UIElement

DATA_DIR = Path(__file__).resolve().parent / "data"
_SELECTOR_KEYS = {"text": "text", "desc": "content_desc", "id": "resource_id", "class": "class_name"}


class OracleError(Exception):
    """An oracle step whose target is not on the screen (the message lists what is)."""


class _Env(Protocol):
    def reset(self, task: Task, *, seed: int | None = None) -> Observation: ...

    def step(self, action: ActionBase | dict[str, Any]) -> StepResult: ...

    def evaluate(self) -> Score: ...


def load_oracles(path: Path | None = None) -> dict[str, list[dict[str, Any]]]:
    """Oracles by task id (default: the android-mini ones).

    Raises:
        DatasetError: the file is missing or not a JSON object of lists.
    """
    path = path or DATA_DIR / "android_mini.oracles.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"cannot read oracles: {exc}", path=str(path)) from exc
    if not isinstance(data, dict) or not all(isinstance(v, list) and v for v in data.values()):
        raise DatasetError("oracles must be a JSON object of non-empty lists of actions", path=str(path))
    return data


def elements_of(observation: Observation) -> list[UIElement]:
    """The UI elements an observation carries (``info["ui_elements"]``)."""
    return [UIElement.model_validate(e) for e in observation.info.get("ui_elements", [])]


def find_element(selector: dict[str, str], elements: list[UIElement]) -> UIElement:
    """The first element matching every key of ``selector`` exactly.

    Raises:
        OracleError: an unknown selector key, or no element matches.
    """
    unknown = set(selector) - set(_SELECTOR_KEYS)
    if unknown:
        raise OracleError(f"unknown target keys {sorted(unknown)}; use {', '.join(_SELECTOR_KEYS)}")
    for element in elements:
        if all(getattr(element, _SELECTOR_KEYS[key]) == value for key, value in selector.items()):
            return element
    shown = ", ".join(repr(e.label) for e in elements if e.label)
    raise OracleError(f"no element matches {selector}; the screen shows {shown or 'no labelled elements'}")


def resolve_step(step: dict[str, Any], observation: Observation) -> ActionBase:
    """An oracle step as a concrete action for the current observation.

    Raises:
        OracleError: its target is not on the screen.
        ModelOutputError: the step is not a valid action.
    """
    data = dict(step)
    selector = data.pop("target", None)
    if selector is not None:
        element = find_element(selector, elements_of(observation))
        if data.get("kind") == "android.scroll":
            data["index"] = element.index
        else:
            data["x"], data["y"] = element.center
    return parse_action(data)


def run_oracle(env: _Env, task: Task, steps: list[dict[str, Any]]) -> tuple[Score, list[StepResult]]:
    """Reset ``env`` for ``task``, replay ``steps``, and score.

    Raises:
        OracleError: a step's target is missing, or a step came back with an error.
    """
    observation = env.reset(task)
    results: list[StepResult] = []
    for step in steps:
        result = env.step(resolve_step(step, observation))
        results.append(result)
        if result.observation.error:
            raise OracleError(f"task {task.id}: step {step} failed: {result.observation.error}")
        observation = result.observation
        if result.terminated or result.truncated:
            break
    return env.evaluate(), results


class OracleAgent:
    """Replays a task's oracle through the environment (an Agent, for runner tests).

    Args:
        oracles: oracle steps by task id (default: :func:`load_oracles`).
    """

    name = "android-oracle"

    def __init__(self, oracles: dict[str, list[dict[str, Any]]] | None = None, **options: Any) -> None:
        self.oracles = oracles if oracles is not None else load_oracles()

    def run(self, ctx: EpisodeContext, first: Observation) -> AgentOutcome:
        steps = self.oracles.get(ctx.task.id)
        if steps is None:
            return AgentOutcome(status="error", steps=0, error=f"no oracle for task {ctx.task.id}")
        observation = first
        for i, step in enumerate(steps):
            try:
                action = resolve_step(step, observation)
            except OracleError as exc:
                return AgentOutcome(status="error", steps=i, error=str(exc))
            result = ctx.env.step(action)
            ctx.record_step(StepRecord(index=i, action=action.model_dump(), rationale="oracle",
                                       observation=result.observation.summary()))
            observation = result.observation
            if result.terminated:
                return AgentOutcome(status="terminated", steps=i + 1)
            if result.truncated:
                return AgentOutcome(status="truncated", steps=i + 1)
        return AgentOutcome(status="truncated", steps=len(steps), error="the oracle ended without a status")
