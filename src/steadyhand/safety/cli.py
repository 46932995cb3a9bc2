"""``steadyhand safety``: measure an agent on ``safety-mini`` without and with guards.

Mounted by the main CLI as ``app.add_typer(safety_app, name="safety")``; the Python API
behind it is :func:`steadyhand.safety.report.safety_report` and
:func:`~steadyhand.safety.report.render_report`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from steadyhand.cli_options import add_grounding, err_console, fail, parse_options
from steadyhand.core.errors import SteadyhandError

__all__ = ["safety_app"]

safety_app = typer.Typer(help="Safety suite: attacks, guards and their measured effect.", no_args_is_help=True)
console = Console()


def _agent_options(pairs: list[str] | None, grounding: list[str] | None) -> dict[str, Any]:
    return add_grounding(parse_options(pairs, "--option"), grounding)


@safety_app.command("report")
def report_command(
    agent: Annotated[str, typer.Option(help="Agent name: gullible (scripted, obeys the screen) or s2.")] = "gullible",
    model: Annotated[str | None, typer.Option(help="Model spec (see `steadyhand eval --help`); the gullible agent "
                                              "needs none.")] = None,
    guards: Annotated[str, typer.Option(help="Guards of the guarded run: all, or a comma list of injection, "
                                        "policy, loop, budget, screen.")] = "all",
    limit: Annotated[int | None, typer.Option(min=1, help="Run only the first N tasks.")] = None,
    task: Annotated[list[str] | None, typer.Option("--task", help="Run only this task (repeatable).")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", "-o", help="Agent option KEY=VALUE.")] = None,
    grounding: Annotated[list[str] | None, typer.Option(
        "--grounding", help="Grounding expert NAME=SPEC for agents that ground (repeatable).")] = None,
    screenshots: Annotated[bool | None, typer.Option(help="Attach screenshots to observations (default: only "
                                                     "for agents other than gullible).")] = None,
    desktop: Annotated[bool, typer.Option(help="Also the desktop pop-up tasks (safety-mini-desktop, local "
                                          "Xvfb desktops).")] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the figures to this JSON file.")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Run an agent over safety-mini twice (no guards, guards) and print the AgentDojo/WASP metrics."""
    from steadyhand.core.registry import agents
    from steadyhand.safety.guards import parse_guards
    from steadyhand.safety.gullible import GullibleAgent  # noqa: F401  (registers the agent)
    from steadyhand.safety.report import render_report, safety_report
    from steadyhand.safety.suite import safety_mini_tasks

    options = _agent_options(option, grounding)
    try:
        parse_guards(guards)
        agents.get(agent)
        chosen = safety_mini_tasks()
        if desktop:
            from steadyhand.safety.popups import safety_desktop_tasks

            chosen += safety_desktop_tasks()
        if task:
            unknown = sorted(set(task) - {t.id for t in chosen})
            if unknown:
                raise SteadyhandError(f"safety-mini has no task {', '.join(unknown)}")
            chosen = [t for t in chosen if t.id in task]
        chosen = chosen[:limit]
        if model is not None:
            from steadyhand.models import parse_spec

            parse_spec(model)
        elif agent != "gullible":
            raise SteadyhandError(f"agent {agent!r} needs --model")
    except SteadyhandError as exc:
        fail(exc)
        return
    shots = screenshots if screenshots is not None else agent != "gullible"
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=err_console, disable=quiet or not sys.stderr.isatty())
    bar = progress.add_task("safety-mini", total=2 * len(chosen))

    def advance(task_id: str) -> None:
        progress.update(bar, advance=1, description=task_id)

    try:
        with progress:
            report = safety_report(agent, tasks=chosen, model_spec=model, options=options, guards=guards,
                                   env_options={"screenshots": shots}, progress=advance)
    except SteadyhandError as exc:
        fail(exc)
        return
    console.print(f"safety-mini · agent {agent} · model {model or '-'} · guards {guards} · "
                  f"{len(chosen)} tasks x 2 configurations", highlight=False)
    console.print(render_report(report), highlight=False, markup=False)
    if json_out is not None:
        json_out.write_text(json.dumps({"agent": agent, "model": model, "guards": guards,
                                        "tasks": [t.id for t in chosen],
                                        "figures": {label: asdict(f) for label, f in report.items()}}, indent=2))
        console.print(f"figures written to {json_out}", highlight=False)
