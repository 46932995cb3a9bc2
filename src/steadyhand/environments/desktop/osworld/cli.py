"""``steadyhand osworld ...``: a thin typer layer over :mod:`steadyhand.environments.desktop.osworld`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from steadyhand.core.errors import SteadyhandError
from steadyhand.environments.desktop.osworld.check import TaskSupport, check_tasks
from steadyhand.environments.desktop.osworld.context import Capabilities

osworld_app = typer.Typer(name="osworld", no_args_is_help=True, add_completion=False,
                          help="Work with OSWorld task files.")
console = Console()
err_console = Console(stderr=True)


@osworld_app.callback()
def _group() -> None:
    """Work with OSWorld task files."""


def _capabilities(desktop: str | None, cache: Path | None) -> Capabilities:
    if desktop is None:
        return Capabilities.local(file_cache=cache)
    from steadyhand.environments.desktop.client import DesktopClient

    client = DesktopClient(desktop)
    client.wait_ready(timeout_s=30.0)
    return Capabilities.of_desktop(client, file_cache=cache)


def _row(support: TaskSupport) -> dict[str, object]:
    return {"task_id": support.task_id, "domain": support.domain, "path": support.path,
            "runnable": support.runnable, "problems": list(support.problems), "warnings": list(support.warnings)}


@osworld_app.command("check")
def check_command(
    directory: Annotated[Path, typer.Argument(help="An evaluation_examples or examples folder, a folder of "
                                                   "task files, one task file or an index file.")],
    index: Annotated[str | None, typer.Option(help="Index file choosing the tasks (default: test_all.json "
                                                   "when present).")] = None,
    cache: Annotated[Path | None, typer.Option(help="Folder with local copies of the remote files tasks "
                                                    "download (OSWorld's cache layout).")] = None,
    desktop: Annotated[str | None, typer.Option(help="Check against a running desktop's control server "
                                                     "(URL) instead of this machine.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per task.")] = False,
    only_problems: Annotated[bool, typer.Option("--problems", help="List only tasks that cannot run.")] = False,
) -> None:
    """Report which tasks can run here and, for the others, why not."""
    try:
        results = check_tasks(directory, _capabilities(desktop, cache), index=index)
    except SteadyhandError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    shown = [r for r in results if not (only_problems and r.runnable)]
    runnable = sum(r.runnable for r in results)
    if as_json:
        for r in shown:
            print(json.dumps(_row(r)))
        return
    table = Table(title=f"OSWorld tasks in {directory}", show_lines=True)
    table.add_column("task", overflow="fold")
    for column in ("domain", "runs here", "why not / warnings"):
        table.add_column(column)
    for r in shown:
        notes = [*r.problems, *(f"[dim]warning: {w}[/]" for w in r.warnings)]
        table.add_row(r.task_id, r.domain or "-", "[green]yes[/]" if r.runnable else "[red]no[/]",
                      "\n".join(notes) or "-")
    console.print(table)
    console.print(f"{runnable} of {len(results)} tasks can run here.")
