"""Score one OSWorld-format task: postconfig, getters, metrics and ``conj``, as OSWorld does.

``DesktopEnvironment.evaluate()`` calls :func:`evaluate_task` with the episode's last action.
"""

from __future__ import annotations

from typing import Any

from steadyhand.core.errors import EnvironmentFault
from steadyhand.core.score import Score
from steadyhand.core.task import Task
from steadyhand.environments.desktop.osworld.check import Item, evaluator_items, missing_components
from steadyhand.environments.desktop.osworld.components import find, getters, metrics
from steadyhand.environments.desktop.osworld.context import ControlClient, OSWorldOptions, UnsupportedTask
from steadyhand.environments.desktop.osworld.getters import EvalContext
from steadyhand.environments.desktop.osworld.placeholders import Placeholders
from steadyhand.environments.desktop.osworld.setup import work_dir
from steadyhand.environments.desktop.osworld.steps import SetupContext, run_steps

_BRIEF = 300


def is_fail(action: Any) -> bool:
    """Whether ``action`` declares the task infeasible: our ``Fail`` action, ``"FAIL"`` or
    a computer_13 ``{"action_type": "FAIL"}``."""
    if action is None:
        return False
    if getattr(action, "kind", None) == "fail":
        return True
    if isinstance(action, str):
        return action.strip().upper() == "FAIL"
    if isinstance(action, dict):
        return str(action.get("action_type", action.get("kind", ""))).upper() == "FAIL"
    return False


def _brief(value: Any) -> Any:
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, str) and len(value) > _BRIEF:
        return value[:_BRIEF] + "…"
    if isinstance(value, dict | list):
        text = repr(value)
        return text if len(text) <= _BRIEF else text[:_BRIEF] + "…"
    return value


class _ItemError(Exception):
    """Scoring one item failed for a reason other than the agent's work."""


def _score_item(ctx: EvalContext, item: Item) -> tuple[float, dict[str, Any]]:
    metric = find(metrics, item.func)
    if metric is None:
        raise UnsupportedTask("metric", item.func)
    detail: dict[str, Any] = {"func": item.func}
    result: Any = None
    if item.result is not None:
        config = ctx.placeholders.substitute(item.result)
        getter = find(getters, str(config.get("type")))
        if getter is None:
            raise UnsupportedTask("getter", str(config.get("type")))
        try:
            result = getter.fn(ctx, config)
        except FileNotFoundError as exc:
            detail["result"] = f"file not found: {exc}"
            return 0.0, detail
        detail["result"] = _brief(result)
    args: list[Any] = [result]
    if item.expected is not None:
        config = ctx.placeholders.substitute(item.expected)
        getter = find(getters, str(config.get("type")))
        if getter is None:
            raise UnsupportedTask("getter", str(config.get("type")))
        try:
            expected = getter.fn(ctx, config)
        except FileNotFoundError as exc:
            raise _ItemError(f"the expected value of {item.func} is missing: {exc}") from exc
        detail["expected"] = _brief(expected)
        args.append(expected)
    value = float(metric.fn(*args, **item.options))
    return min(1.0, max(0.0, value)), detail


def evaluate_task(client: ControlClient, task: Task, last_action: Any,
                  *, options: OSWorldOptions | None = None) -> Score:
    """Score ``task`` on the desktop behind ``client``, as OSWorld's ``DesktopEnv.evaluate``.

    Order: ``postconfig`` steps run; ``func == "infeasible"`` scores 1 exactly when the
    last action was FAIL; otherwise a final FAIL scores 0; then each metric is applied to
    its getters' values. With ``conj: "and"`` (the default) any 0 gives 0, else the mean;
    with ``"or"`` any 1 gives 1, else the maximum. A result getter raising
    ``FileNotFoundError`` scores its metric 0.

    Returns:
        The Score; ``components`` holds each metric's value (``"0:exact_match"``),
        ``details`` the getters' values, and ``error`` is set (value 0) when scoring
        itself failed: an unsupported step, getter or metric, a missing reference file,
        a metric that raised.

    Raises:
        EnvironmentFault: the desktop failed while scoring.
    """
    options = options or OSWorldOptions.from_env()
    evaluator = task.evaluator
    missing = missing_components(task)
    if missing:
        names = "; ".join(f"{kind} {name!r}" for kind, name in missing)
        return Score(value=0.0, error=f"unsupported here: {names}",
                     details={"unsupported": [list(m) for m in missing]})
    with work_dir(options, task) as work:
        placeholders = Placeholders(client, password=options.client_password)
        try:
            run_steps(SetupContext(client, task, options, placeholders, work), list(evaluator.get("postconfig") or []),
                      where="evaluator.postconfig")
        except UnsupportedTask as exc:
            return Score(value=0.0, error=str(exc))
        if evaluator["func"] == "infeasible":
            return Score(value=float(is_fail(last_action)), details={"infeasible": True,
                                                                     "last_action_fail": is_fail(last_action)})
        if is_fail(last_action):
            return Score(value=0.0, details={"reason": "the agent answered FAIL but the task is feasible"})
        ctx = EvalContext(client, task, options, placeholders, work)
        conj = evaluator.get("conj", "and")
        items = evaluator_items(evaluator)
        components: dict[str, float] = {}
        details: dict[str, Any] = {"conj": conj, "items": []}
        for i, item in enumerate(items):
            try:
                value, detail = _score_item(ctx, item)
            except EnvironmentFault:
                raise
            except (UnsupportedTask, _ItemError) as exc:
                return Score(value=0.0, components=components, details=details, error=str(exc))
            except Exception as exc:  # a metric or getter broke: say so rather than score silently
                return Score(value=0.0, components=components, details=details,
                             error=f"{item.func}: {type(exc).__name__}: {exc}")
            components[f"{i}:{item.func}"] = value
            details["items"].append(detail)
            if len(items) > 1 and conj == "and" and value == 0.0:
                return Score(value=0.0, components=components, details=details)
            if len(items) > 1 and conj == "or" and value == 1.0:
                return Score(value=1.0, components=components, details=details)
        values = list(components.values())
        total = sum(values) / len(values) if conj == "and" else max(values)
        return Score(value=total, components=components, details=details)
