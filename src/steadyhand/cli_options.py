"""Command-line pieces shared by ``steadyhand`` and its sub-apps: errors and KEY=VALUE options."""

from __future__ import annotations

from typing import Any, NoReturn

import typer
import yaml
from rich.console import Console

from steadyhand.core.errors import SteadyhandError

err_console = Console(stderr=True)


def fail(exc: BaseException) -> NoReturn:
    """Print ``exc`` as an error and exit with status 2."""
    err_console.print(f"[bold red]error:[/] {exc}")
    raise typer.Exit(2)


def parse_options(pairs: list[str] | None, flag: str) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as a dict (values read as YAML, dashes in keys made underscores)."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(SteadyhandError(f"{flag} expects KEY=VALUE, got {pair!r}"))
        out[key.replace("-", "_")] = yaml.safe_load(value)
    return out


def add_grounding(options: dict[str, Any], pairs: list[str] | None) -> dict[str, Any]:
    """``options`` with ``--grounding NAME=SPEC`` pairs merged into its ``grounding`` entry."""
    if not pairs:
        return options
    experts = dict(options.get("grounding") or {})
    for pair in pairs:
        name, sep, spec = pair.partition("=")  # a SPEC may itself contain '='
        if not sep or not name or not spec:
            fail(SteadyhandError(f"--grounding expects NAME=SPEC, got {pair!r}"))
        experts[name] = spec
    return {**options, "grounding": experts}
