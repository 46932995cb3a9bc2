import sys
import textwrap
from pathlib import Path

import pytest

from steadyhand.core import ConfigurationError, Registry


def test_decorator_registers_and_duplicates_are_refused() -> None:
    reg: Registry[object] = Registry("widget", "steadyhand.test-widgets")

    @reg.register("a")
    class A:
        pass

    assert reg.get("a") is A
    with pytest.raises(ConfigurationError, match="already registered"):
        reg.register("a", object())
    reg.register("a", object(), replace=True)
    assert reg.get("a") is not A


def test_unknown_name_lists_known_ones() -> None:
    reg: Registry[object] = Registry("widget", "steadyhand.test-widgets")
    reg.register("known", 1)
    with pytest.raises(ConfigurationError, match="unknown widget 'nope'; known: known"):
        reg.get("nope")


def test_third_party_entry_point_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real distribution (dist-info with entry_points.txt) on sys.path plugs in without edits."""
    (tmp_path / "thirdparty_widgets.py").write_text("class Fancy:\n    name = 'fancy'\n")
    dist = tmp_path / "thirdparty_widgets-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-widgets\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(textwrap.dedent("""\
        [steadyhand.test-widgets]
        fancy = thirdparty_widgets:Fancy
        broken = thirdparty_widgets:Missing
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    reg: Registry[object] = Registry("widget", "steadyhand.test-widgets")
    assert "fancy" in reg.names()
    assert reg.get("fancy").name == "fancy"  # type: ignore[attr-defined]
    with pytest.raises(ConfigurationError, match=r"broken.*loading entry point"):
        reg.get("broken")
    sys.modules.pop("thirdparty_widgets", None)


def test_builtin_groups_expose_sql_components() -> None:
    from steadyhand.core.registry import agents, environments, suites

    assert "sql" in environments.names()
    assert "sql" in agents.names()
    assert "sql-mini" in suites.names()
