"""Suites of CodeARC problems: the built-in ``codearc-mini``, and factories for benchmark files.

``codearc-mini`` holds functions written for steadyhand (strings, lists, arithmetic,
dictionaries, edge-case-heavy logic; ``data/codearc_mini.yaml``), each in an
annotated and an anonymous variant, as tasks ``codearc-mini-<i>-<variant>``. Its
initial outputs were computed by running each function in a sandbox
(``scripts/build_codearc_mini.py`` writes ``data/codearc_mini.json``).

Other problem sets become suites with :func:`codearc_suite` (the official layout)
or :func:`jsonl_suite`, then register like any suite::

    from steadyhand.core import suites
    suites.register("codearc", codearc_suite("~/CodeARC"))
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from steadyhand.core.errors import DatasetError
from steadyhand.core.registry import suites
from steadyhand.core.task import Suite, Task
from steadyhand.environments.code.problems import (
    VARIANTS,
    Problem,
    Variant,
    load_codearc,
    load_jsonl,
    problem_from_record,
)

DATA_DIR = Path(__file__).with_name("data")
MINI_SOURCES = DATA_DIR / "codearc_mini.yaml"
MINI_DATA = DATA_DIR / "codearc_mini.json"
MINI_FORMAT = "steadyhand.codearc-mini/1"
_DEFAULT_OPTIONS: dict[str, Any] = {"sandbox": "local"}


def load_mini(path: str | Path = MINI_DATA) -> list[Problem]:
    """The ``codearc-mini`` problems, annotated and anonymous of each function in turn.

    Raises:
        DatasetError: the data file is missing or malformed (rebuild it with
            ``scripts/build_codearc_mini.py``).
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read the codearc-mini data ({exc}); run scripts/build_codearc_mini.py",
                           path=str(path)) from exc
    if not isinstance(data, dict) or data.get("format") != MINI_FORMAT:
        raise DatasetError(f"not a {MINI_FORMAT} file", path=str(path), field="format")
    return [problem_from_record(r, where=f"problem {k}") for k, r in enumerate(data.get("problems", []))]


def _tasks(prefix: str, problems: list[Problem]) -> list[Task]:
    tasks = [p.to_task(f"{prefix}-{p.id}") for p in problems]
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise DatasetError(f"two problems share the id {duplicate!r}")
    return tasks


def mini_tasks() -> list[Task]:
    """The tasks of ``codearc-mini``: ``codearc-mini-<i>-<variant>``."""
    return _tasks("codearc-mini", load_mini())


def codearc_mini() -> Suite:
    """The built-in suite (the ``steadyhand.suites`` entry point ``codearc-mini``)."""
    return Suite(name="codearc-mini", environment="code", load=mini_tasks,
                 description="CodeARC-style program synthesis: 50 functions written for steadyhand, annotated and "
                             "anonymous (100 tasks)",
                 environment_options=dict(_DEFAULT_OPTIONS), default_agent="codearc", requirements=("bubblewrap",),
                 report_group="variant", report_components=("io_calls", "oracle_calls"))


def _suite(name: str, load: Callable[[], list[Problem]], description: str,
           environment_options: dict[str, Any] | None) -> Suite:
    return Suite(name=name, environment="code", load=lambda: _tasks(name, load()), description=description,
                 environment_options={**_DEFAULT_OPTIONS, **(environment_options or {})}, default_agent="codearc",
                 requirements=("bubblewrap",), report_group="variant", report_components=("io_calls", "oracle_calls"))


def codearc_suite(root: str | Path, *, name: str = "codearc", variants: tuple[Variant, ...] = VARIANTS,
                  invocations: str | None = None, limit: int | None = None,
                  environment_options: dict[str, Any] | None = None) -> Suite:
    """A suite of the official CodeARC problems under ``root`` (see :func:`load_codearc`).

    Tasks are ``<name>-<i>-<variant>``; loading is lazy.
    """
    root = Path(root).expanduser()
    return _suite(name, lambda: load_codearc(root, variants, invocations=invocations, limit=limit),
                  f"CodeARC problems from {root}", environment_options)


def jsonl_suite(path: str | Path, *, name: str | None = None,
                environment_options: dict[str, Any] | None = None) -> Suite:
    """A suite of the problems in a JSON Lines file (see :func:`load_jsonl`); tasks are ``<name>-<id>``."""
    path = Path(path).expanduser()
    suite_name = name or path.stem
    return _suite(suite_name, lambda: load_jsonl(path), f"CodeARC-format problems from {path}",
                  environment_options)


suites.register("codearc-mini", codearc_mini)
