"""``steadyhand eval --approve``: checked before anything runs."""

from __future__ import annotations

from typer.testing import CliRunner

from steadyhand.cli import app


def test_a_bad_approve_mode_is_refused(tmp_path: object) -> None:
    result = CliRunner().invoke(app, ["eval", "sql-mini", "--approve", "maybe", "--db", f"sqlite:///{tmp_path}/r.db"])
    assert result.exit_code != 0 and "--approve must be ask, deny or allow" in result.output
