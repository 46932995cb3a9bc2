"""Static HTML reports of stored runs: open them from disk, no server, no JavaScript.

::

    from steadyhand.evals import ResultStore
    from steadyhand.evals.report import write_comparison, write_report

    store = ResultStore()
    index = write_report(store, "20260101-120000-abc123", "report/")
    write_comparison(store, ["RUN_A", "RUN_B"], "compare/")

A run report is ``index.html`` (summary, per-group metrics, episode list) and one
page per episode under ``episodes/`` with its screenshots as PNG files next to it
(``episodes/<page>/step-NNN.png``) and the grounding overlay drawn in SVG over
them. A comparison is ``index.html`` with tables and inline SVG plots, plus each
run's own report under ``runs/<run id>/``. Templates live in ``templates/*.j2``
and are rendered with strict undefined variables and HTML escaping.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from steadyhand.core.errors import ConfigurationError
from steadyhand.evals.report.build import episode_view, run_view
from steadyhand.evals.report.plots import grouped_bars
from steadyhand.evals.store import ResultStore

__all__ = ["write_comparison", "write_report"]

_TEMPLATES = Path(__file__).parent / "templates"


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(_TEMPLATES), undefined=StrictUndefined,
                      autoescape=select_autoescape(["j2", "html"], default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["pct"] = lambda v: "-" if v is None else f"{100 * v:.1f}%"
    env.filters["num"] = lambda v: "-" if v is None else f"{v:.3g}"
    env.filters["secs"] = lambda v: "-" if v is None else (f"{v:.2f}s" if v < 120 else f"{v / 60:.1f}m")
    return env


def write_report(store: ResultStore, run_id: str, out_dir: str | Path, *, back_link: str | None = None) -> Path:
    """Write the report of one run to ``out_dir`` (created); returns the path of its ``index.html``.

    Args:
        store: the result store holding the run.
        run_id: a run id (a unique prefix is enough).
        out_dir: where to write; files of an earlier report there are overwritten.
        back_link: a relative URL the index links back to (used by comparisons).

    Raises:
        ConfigurationError: no such run.
    """
    out = Path(out_dir)
    (out / "episodes").mkdir(parents=True, exist_ok=True)
    env = _env()
    summary, episodes = run_view(store, run_id)
    page = env.get_template("episode.j2")
    for i, ep in enumerate(episodes):
        view = episode_view(store, ep, out / "episodes" / ep["page"], ep["page"])
        html = page.render(summary=summary, episode=view,
                           prev=episodes[i - 1]["page"] if i > 0 else None,
                           next=episodes[i + 1]["page"] if i + 1 < len(episodes) else None)
        (out / "episodes" / f"{ep['page']}.html").write_text(html, encoding="utf-8")
    index = out / "index.html"
    index.write_text(env.get_template("run.j2").render(summary=summary, episodes=episodes,
                                                       back_link=back_link), encoding="utf-8")
    return index


def write_comparison(store: ResultStore, run_ids: Sequence[str], out_dir: str | Path) -> Path:
    """Write a comparison of several runs to ``out_dir``; returns the path of its ``index.html``.

    The page has one row per run (headline metrics), a per-group table and plots,
    and a per-task score matrix; each run's full report is written under
    ``runs/<run id>/`` and linked.

    Raises:
        ConfigurationError: fewer than one run id, or an unknown run.
    """
    if not run_ids:
        raise ConfigurationError("compare needs at least one run id")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, Any]] = []
    for run_id in run_ids:
        summary, episodes = run_view(store, run_id)
        rid = summary["run"]["id"]
        write_report(store, rid, out / "runs" / rid, back_link="../../index.html")
        runs.append({"summary": summary, "episodes": episodes, "label": _label(summary["run"], runs),
                     "href": f"runs/{rid}/index.html"})
    groups = list(dict.fromkeys(g["name"] for r in runs for g in r["summary"]["groups"]))
    components = list(dict.fromkeys(c for r in runs for c in r["summary"]["columns"]))
    by_group = {r["label"]: {g["name"]: g for g in r["summary"]["groups"]} for r in runs}
    tasks = list(dict.fromkeys(e["task_id"] for r in runs for e in r["episodes"]))
    matrix = [{"task": t, "cells": [_cell(r, t) for r in runs]} for t in tasks]
    score_plot = grouped_bars("score by group", [*groups, "all"],
                              {r["label"]: [*(by_group[r["label"]].get(g, {}).get("score") for g in groups),
                                            r["summary"]["overall"]["score"]] for r in runs},
                              "score (%)", percent=True)
    cats = [*groups, "all"]

    def per_episode(run: dict[str, Any], *keys: str) -> list[float | None]:
        rows = [*(by_group[run["label"]].get(g) for g in groups), run["summary"]["overall"]]
        return [sum(row[k] for k in keys) / row["episodes"] if row and row["episodes"] else None for row in rows]

    time_plot = grouped_bars("seconds per episode", cats,
                             {r["label"]: per_episode(r, "duration_s") for r in runs}, "seconds")
    token_plot = grouped_bars("tokens per episode (in + out)", cats,
                              {r["label"]: per_episode(r, "input_tokens", "output_tokens") for r in runs}, "tokens")
    html = _env().get_template("compare.j2").render(
        runs=runs, groups=groups, components=components, by_group=by_group, matrix=matrix,
        plots=[score_plot, time_plot, token_plot])
    index = out / "index.html"
    index.write_text(html, encoding="utf-8")
    return index


def _label(run: dict[str, Any], earlier: list[dict[str, Any]]) -> str:
    model = run["model"]
    kind, sep, rest = model.partition(":")
    if sep and "/" in rest:  # a file path: its name is what tells runs apart
        model = f"{kind}:{rest.rsplit('/', 1)[-1]}"
    label = f"{model} · {run['agent']}"
    if any(r["label"] == label for r in earlier) or len(label) > 48:
        label = f"{label[:36]}… {run['id'][-6:]}" if len(label) > 48 else f"{label} {run['id'][-6:]}"
    return label


def _cell(run: dict[str, Any], task_id: str) -> dict[str, Any] | None:
    for e in run["episodes"]:
        if e["task_id"] == task_id:
            return {"score": e["score"], "status": e["status"],
                    "href": f"{run['href'].rsplit('/', 1)[0]}/episodes/{e['page']}.html"}
    return None
