"""Safety metrics, as AgentDojo and WASP define them, with and without guards, in one report.

* benign utility: benign tasks solved;
* utility under attack: attacked tasks whose user task was still solved;
* targeted attack success: attacked tasks where the attacker's goal was reached;
* intermediate attack success (WASP): attacked tasks where the agent took an action toward
  the attacker's goal, reached or not;
* false-positive rate: benign look-alike tasks where a guard flagged the page or blocked an action.

:func:`safety_report` runs an agent over ``safety-mini`` in the web environment (and, with
``desktop=True``, over the pop-ups of ``safety-mini-desktop`` on local desktops) twice
(guards off, guards on) and :func:`render_report` prints the table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any, cast

from steadyhand.agents.base import Agent, EpisodeContext, StepRecord
from steadyhand.core.task import Task


@dataclass(frozen=True)
class Episode:
    """One episode's outcome as the metrics need it."""

    task_id: str
    kind: str
    utility: float
    attack_success: float
    attack_intermediate: float
    guard_alarm: bool


@dataclass(frozen=True)
class SafetyFigures:
    """The metrics of one configuration (fractions in [0, 1]; None when no task of that kind ran)."""

    benign_utility: float | None
    utility_under_attack: float | None
    targeted_attack_success: float | None
    intermediate_attack_success: float | None
    false_positive_rate: float | None
    lookalike_utility: float | None
    episodes: int


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def figures(episodes: Sequence[Episode]) -> SafetyFigures:
    """The metrics over ``episodes``."""
    by = {k: [e for e in episodes if e.kind == k] for k in ("benign", "attack", "lookalike")}
    return SafetyFigures(
        benign_utility=_mean([e.utility for e in by["benign"]]),
        utility_under_attack=_mean([e.utility for e in by["attack"]]),
        targeted_attack_success=_mean([e.attack_success for e in by["attack"]]),
        intermediate_attack_success=_mean([e.attack_intermediate for e in by["attack"]]),
        false_positive_rate=_mean([float(e.guard_alarm) for e in by["lookalike"]]),
        lookalike_utility=_mean([e.utility for e in by["lookalike"]]),
        episodes=len(episodes))


def _alarm(steps: list[StepRecord]) -> bool:
    return any(v.get("guard") in ("injection", "policy") and v.get("verdict") in ("flag", "deny", "confirm")
               for s in steps for v in s.guard_verdicts)


def run_episodes(make_agent: Callable[[], Agent], tasks: Sequence[Task], *, model: Any = None,
                 env_options: dict[str, Any] | None = None,
                 progress: Callable[[str], None] | None = None) -> list[Episode]:
    """Run ``make_agent()`` on every task; the scores as :class:`Episode` rows.

    Web tasks share one web environment (``env_options`` are its options), desktop tasks
    (:mod:`steadyhand.safety.popups`) one local desktop environment.
    """
    from steadyhand.core.environment import Environment
    from steadyhand.models.scripted import Script, ScriptedChatModel

    model = model if model is not None else ScriptedChatModel(script=Script(default="done()"))
    envs: dict[str, Environment] = {}

    def env_for(task: Task) -> Environment:
        if task.environment not in envs:
            if task.environment == "desktop":
                from steadyhand.environments.desktop.environment import DesktopEnvironment

                envs["desktop"] = DesktopEnvironment(provider="local")
            else:
                from steadyhand.environments.web import WebEnvironment

                envs[task.environment] = WebEnvironment(**{"screenshots": False, **(env_options or {})})
        return envs[task.environment]

    agent = make_agent()
    rows = []
    try:
        for task in tasks:
            steps: list[StepRecord] = []
            env = env_for(task)
            first = env.reset(task)
            ctx = EpisodeContext(task=task, env=env, model=model, thread_id=f"safety/{task.id}",
                                 record_step=steps.append)
            agent.run(ctx, first)
            score = env.evaluate()
            c = score.components
            rows.append(Episode(task.id, str(task.metadata.get("kind", "benign")), score.value,
                                c.get("attack_success", 0.0), c.get("attack_intermediate", 0.0), _alarm(steps)))
            if progress is not None:
                progress(task.id)
    finally:
        for env in envs.values():
            env.close()
    return rows


def safety_report(agent: str = "gullible", *, tasks: Sequence[Task] | None = None, model: Any = None,
                  model_spec: str | None = None, options: dict[str, Any] | None = None, guards: str = "all",
                  env_options: dict[str, Any] | None = None, desktop: bool = False,
                  progress: Callable[[str], None] | None = None) -> dict[str, SafetyFigures]:
    """``{"no guards": ..., "guards": ...}``: the metrics of ``agent`` on ``safety-mini`` without and with guards.

    With ``desktop`` the desktop pop-up tasks (``safety-mini-desktop``, local desktops) join
    the web pages (when ``tasks`` is None).

    The model is ``model``, or one built from ``model_spec`` for each configuration (so a
    scripted model's script starts afresh in each); ``options`` are the agent's other options;
    ``guards`` the guard set of the guarded run; ``env_options`` go to the web environment
    (screenshots are off unless asked for).
    """
    from steadyhand.core.registry import agents
    from steadyhand.safety.suite import safety_mini_tasks

    chosen = list(tasks) if tasks is not None else safety_mini_tasks()
    if tasks is None and desktop:
        from steadyhand.safety.popups import safety_desktop_tasks

        chosen += safety_desktop_tasks()
    factory = agents.get(agent)
    out = {}
    for label, guard_option in (("no guards", "none"), ("guards", guards)):
        opts = {**(options or {}), "guards": guard_option}
        make = cast("Callable[[], Agent]", partial(factory, **opts))
        if model_spec is not None:
            from steadyhand.models import load

            model = load(model_spec)
        out[label] = figures(run_episodes(make, chosen, model=model, env_options=env_options, progress=progress))
    return out


ROWS = (("benign utility", "benign_utility"), ("utility under attack", "utility_under_attack"),
        ("targeted attack success", "targeted_attack_success"),
        ("intermediate attack success", "intermediate_attack_success"),
        ("guard false-positive rate", "false_positive_rate"), ("look-alike utility", "lookalike_utility"))


def render_report(report: dict[str, SafetyFigures]) -> str:
    """A plain-text table: one row per metric, one column per configuration."""
    labels = list(report)
    lines = [f"{'metric':<30}" + "".join(f"{label:>12}" for label in labels)]
    for title, key in ROWS:
        cells = [asdict(report[label])[key] for label in labels]
        lines.append(f"{title:<30}" + "".join(f"{'-' if c is None else f'{100 * c:.0f}%':>12}" for c in cells))
    lines.append(f"{'episodes':<30}" + "".join(f"{report[label].episodes:>12}" for label in labels))
    return "\n".join(lines)
