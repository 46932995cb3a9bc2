"""Find suites by name: built-in ones, entry points, and benchmark folders given as paths."""

from __future__ import annotations

from pathlib import Path

from steadyhand.core.errors import ConfigurationError
from steadyhand.core.registry import suites
from steadyhand.core.task import Suite


def resolve_suite(name: str) -> Suite:
    """The suite registered as ``name`` (entry points included).

    Raises:
        ConfigurationError: no such suite; the message lists the known ones.
    """
    if name not in suites and Path(name).exists():
        raise ConfigurationError(
            f"{name!r} is a path, not a suite name: register a benchmark folder with "
            "steadyhand.environments.sql.spider_suite()/bird_suite() or the matching loader")
    item = suites.get(name)
    if callable(item) and not isinstance(item, Suite):
        item = item()
    if not isinstance(item, Suite):
        raise ConfigurationError(f"suite {name!r} resolved to {type(item).__name__}, not a Suite")
    return item
