"""SQL suites: the built-in ``sql-mini`` and suites registered from Spider/BIRD folders.

``sql-mini`` ships with steadyhand (``data/sql_mini``, built by
``scripts/build_sql_mini.py``): three small SQLite databases, each with a variant
database for test-suite scoring, and questions across easy/medium/hard.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

from steadyhand.core.errors import DatasetError
from steadyhand.core.registry import suites
from steadyhand.core.task import Suite, Task
from steadyhand.environments.sql.loaders import load_bird, load_spider

#: Where the packaged sql-mini benchmark lives (Spider layout).
SQL_MINI_PATH = Path(__file__).parent / "data" / "sql_mini"


@cache
def load_sql_mini() -> tuple[Task, ...]:
    """The sql-mini tasks (ids ``sql-mini-<i>``, Spider test-suite metric)."""
    return tuple(load_spider(SQL_MINI_PATH, dataset="sql-mini", metric="spider"))


sql_mini = Suite(
    name="sql-mini",
    environment="sql",
    load=load_sql_mini,
    description="Built-in text-to-SQL suite: 3 small SQLite databases (school, store, concerts), "
                "test-suite scored, easy/medium/hard",
    default_agent="sql",
    requirements=("sqlite",),
)
suites.register("sql-mini", sql_mini)


def _cached(load: Callable[[], list[Task]]) -> Callable[[], Sequence[Task]]:
    @cache
    def tasks() -> tuple[Task, ...]:
        return tuple(load())

    return tasks


def _check_folder(path: str | Path, split: str) -> Path:
    root = Path(path).expanduser().resolve()
    if not (root / split).is_file():
        raise DatasetError(f"not a benchmark folder: {split} not found", path=str(root))
    return root


def spider_suite(path: str | Path, name: str = "spider", *, split: str = "dev.json", replace: bool = False,
                 description: str = "") -> Suite:
    """Register (and return) a suite of the Spider-layout folder ``path``, scored by test-suite accuracy.

    Tasks load lazily on first use, once. Task ids are ``<name>-<index>``.

    Raises:
        DatasetError: ``path`` has no ``split`` file.
        ConfigurationError: ``name`` is taken and ``replace`` is false.
    """
    root = _check_folder(path, split)
    suite = Suite(name=name, environment="sql",
                  load=_cached(lambda: load_spider(root, split=split, dataset=name, metric="spider")),
                  description=description or f"Spider-layout benchmark at {root}", default_agent="sql",
                  requirements=("sqlite",))
    suites.register(name, suite, replace=replace)
    return suite


def bird_suite(path: str | Path, name: str = "bird", *, split: str = "dev.json", replace: bool = False,
               description: str = "") -> Suite:
    """Register (and return) a suite of the BIRD-layout folder ``path``, scored by BIRD execution accuracy.

    Raises:
        DatasetError: ``path`` has no ``split`` file.
        ConfigurationError: ``name`` is taken and ``replace`` is false.
    """
    root = _check_folder(path, split)
    suite = Suite(name=name, environment="sql",
                  load=_cached(lambda: load_bird(root, split=split, dataset=name, metric="bird")),
                  description=description or f"BIRD-layout benchmark at {root}", default_agent="sql",
                  requirements=("sqlite",))
    suites.register(name, suite, replace=replace)
    return suite
