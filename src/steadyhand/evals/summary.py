"""Summaries of stored runs: overall and per-difficulty metrics, tokens and time."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from steadyhand.evals.store import ResultStore

_DIFFICULTY_ORDER = {"easy": 0, "simple": 0, "medium": 1, "moderate": 1, "hard": 2, "challenging": 2,
                     "extra": 3}


@dataclass
class GroupSummary:
    """Metrics of one group of episodes (a difficulty, or all of them).

    ``errors`` are the agent's (its episode ended in an error); ``infra_errors`` are
    episodes still unfinished because of infrastructure faults (left out of ``score``);
    ``infra_faults`` counts every fault met, including those a retry got past.
    """

    name: str
    episodes: int = 0
    finished: int = 0
    errors: int = 0
    infra_errors: int = 0
    infra_faults: int = 0
    score: float = 0.0
    components: dict[str, float] = field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    duration_s: float = 0.0


@dataclass
class RunSummary:
    """A run's header and its metrics, overall and per summary group.

    ``group_by`` names what groups the rows (the suite's ``report_group``:
    difficulty unless the suite says otherwise) and ``columns`` the score
    components the suite wants shown next to the headline score.
    """

    run: dict[str, Any]
    overall: GroupSummary
    groups: list[GroupSummary]
    group_by: str = "difficulty"
    columns: tuple[str, ...] = ("partial_reward",)


def _group(name: str, episodes: list[dict[str, Any]]) -> GroupSummary:
    g = GroupSummary(name=name, episodes=len(episodes))
    totals: dict[str, list[float]] = defaultdict(list)
    scored = 0
    for e in episodes:
        g.finished += e["status"] in ("done", "error")
        g.errors += e["status"] == "error"
        g.infra_errors += e["status"] == "infra_error"
        g.infra_faults += e.get("infra_faults", 0)
        g.input_tokens += e["input_tokens"]
        g.output_tokens += e["output_tokens"]
        g.duration_s += e["duration_s"]
        if e["status"] in ("done", "error"):
            scored += 1
            for key, value in e["scores"].items():
                totals[key].append(value)
    # Episodes that finished without a score (the agent crashed before scoring) count as 0.
    g.score = sum(totals.pop("score", [])) / scored if scored else 0.0
    g.components = {k: sum(v) / scored for k, v in sorted(totals.items())} if scored else {}
    return g


def summarize_run(store: ResultStore, run_id: str) -> RunSummary:
    """Metrics of a stored run. Raises ConfigurationError for an unknown run id.

    Rows are grouped by the label the runner stored for each task (the suite's
    ``report_group``); the columns come from the suite when it is installed here.
    """
    from steadyhand.core.errors import SteadyhandError
    from steadyhand.evals.suites import resolve_suite

    run = store.get_run(run_id)
    episodes = store.episodes(run.id)
    try:
        suite = resolve_suite(run.suite)
        group_by, columns = suite.report_group, suite.report_components
    except SteadyhandError:  # a suite from a plugin that is not installed any more
        group_by, columns = "difficulty", ("partial_reward",)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in episodes:
        groups[e["group"]].append(e)
    rows = [_group(name, eps) for name, eps in
            sorted(groups.items(), key=lambda kv: (_DIFFICULTY_ORDER.get(kv[0], 9), kv[0]))]
    header = {"id": run.id, "suite": run.suite, "agent": run.agent, "model": run.model, "status": run.status,
              "created_at": run.created_at, "finished_at": run.finished_at, "total": run.total_tasks}
    return RunSummary(run=header, overall=_group("all", episodes), groups=rows, group_by=group_by,
                      columns=tuple(columns))
