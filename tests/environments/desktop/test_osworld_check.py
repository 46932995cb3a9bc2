"""Static support checks of OSWorld tasks, and ``steadyhand osworld check``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from steadyhand.core import Task
from steadyhand.environments.desktop.osworld import Capabilities, check_task, check_tasks
from steadyhand.environments.desktop.osworld.cli import osworld_app

SAMPLE = Path(__file__).resolve().parents[4] / "shared" / "data" / "osworld-sample"
needs_sample = pytest.mark.skipif(not SAMPLE.is_dir(), reason=f"the OSWorld sample files are not at {SAMPLE}")
FEW = {"sh", "xterm", "soffice", "wmctrl", "cat", "ls"}


def _caps(programs: set[str] = FEW, cache: Path | None = None) -> Capabilities:
    return Capabilities(lambda p: p in programs, file_cache=cache, where="the test desktop")


def _task(setup: list[dict[str, Any]] | None = None, evaluator: dict[str, Any] | None = None,
          apps: list[str] | None = None, **meta: Any) -> Task:
    evaluator = evaluator or {"func": "exact_match", "result": {"type": "vm_command_line", "command": ["ls"]},
                              "expected": {"type": "rule", "rules": {"expected": ""}}}
    return Task(id="t", instruction="x", environment="desktop", setup=setup or [], evaluator=evaluator,
                metadata={"related_apps": apps or ["os"], **meta})


def test_a_plain_task_runs() -> None:
    support = check_task(_task([{"type": "execute", "parameters": {"command": "ls -l", "shell": True}}]), _caps())
    assert support.runnable and support.problems == () and support.warnings == ()


def test_unknown_components_and_missing_parameters_are_problems() -> None:
    task = _task(setup=[{"type": "googledrive", "parameters": {}}, {"type": "open", "parameters": {}}],
                 evaluator={"func": "compare_pptx_files", "result": {"type": "vm_screen"},
                            "postconfig": [{"type": "login", "parameters": {}}]})
    problems = check_task(task, _caps()).problems
    assert "setup step 'googledrive' is not supported here" in problems
    assert "setup step 'login' is not supported here" in problems
    assert "metric 'compare_pptx_files' is not supported here" in problems
    assert "getter 'vm_screen' is not supported here" in problems
    assert "config[1] open: missing parameter 'path'" in problems


def test_programs_apps_and_browser_are_looked_up() -> None:
    task = _task(setup=[{"type": "launch", "parameters": {"command": ["gimp", "x.png"]}},
                        {"type": "chrome_open_tabs", "parameters": {"urls_to_open": ["http://127.0.0.1:8000"]}},
                        {"type": "execute", "parameters": {"command": "nosuchtool --x | cat", "shell": True}}],
                 evaluator={"func": "exact_match", "result": {"type": "vm_command_line", "command": "pactl list",
                                                              "shell": True},
                            "expected": {"type": "rule", "rules": {"expected": "x"}}},
                 apps=["gimp", "calc", "made_up_app"])
    support = check_task(task, _caps())
    assert not support.runnable
    assert "app 'gimp' is not installed on the test desktop (none of gimp)" in support.problems
    assert "config[0] launch: program 'gimp' is not installed on the test desktop" in support.problems
    assert any(p.startswith("config[1] chrome_open_tabs: needs a browser") for p in support.problems)
    assert "vm_command_line: the evaluator runs 'pactl', not installed on the test desktop" in support.problems
    assert "config[2] runs 'nosuchtool', not installed on the test desktop" in support.warnings
    assert "unknown app 'made_up_app': not checked" in support.warnings
    assert not any("calc" in p for p in support.problems)
    with_all = check_task(task, _caps(FEW | {"gimp", "chromium", "pactl", "nosuchtool"}))
    assert with_all.runnable, with_all.problems


def test_downloads_need_a_local_copy(tmp_path: Path) -> None:
    url = "https://example.com/files/data.xlsx"
    task = _task(setup=[{"type": "download", "parameters": {"files": [{"url": url, "path": "/home/user/d.xlsx"}]}}])
    problems = check_task(task, _caps()).problems
    assert len(problems) == 1 and "not available offline" in problems[0] and url in problems[0]
    cache = tmp_path / "cache"
    (cache / "t").mkdir(parents=True)
    (cache / "t" / "d.xlsx").write_bytes(b"x")
    assert check_task(task, _caps(cache=cache)).runnable
    local = _task(setup=[{"type": "download", "parameters": {"files": [
        {"url": (tmp_path / "absent.txt").as_uri(), "path": "/tmp/a"},
        {"url": "http://127.0.0.1:9/x", "path": "/tmp/b"}]}}])
    assert check_task(local, _caps()).problems == (f"config[0] download: no file at {tmp_path / 'absent.txt'}",)


def test_table_rules_and_network_hints() -> None:
    evaluator = {"func": "compare_table", "result": {"type": "vm_file", "path": "/a.xlsx", "dest": "a.xlsx"},
                 "options": {"rules": [{"type": "sheet_data", "sheet_idx0": 0, "sheet_idx1": "EI0"},
                                       {"type": "chart"},
                                       {"type": "check_cell", "props": {"value": {}, "font_glow": {}}}]}}
    task = _task(setup=[{"type": "execute", "parameters": {"command": "git clone https://github.com/x/y",
                                                            "shell": True}}], evaluator=evaluator, proxy=True)
    support = check_task(task, _caps(FEW | {"git"}))
    assert support.problems == ("compare_table: rule type 'chart' (rules[1]) is not supported",
                                "compare_table: check_cell property 'font_glow' is not supported")
    assert "the task expects a proxy (internet access)" in support.warnings
    assert any("remote hosts (github.com)" in w for w in support.warnings)


def test_malformed_files_are_listed_not_raised(tmp_path: Path) -> None:
    (tmp_path / "good.json").write_text(json.dumps({
        "id": "good", "instruction": "x", "config": [], "evaluator": {"func": "infeasible"}}))
    (tmp_path / "bad.json").write_text('{"id": "bad", "instruction": "x"}')
    results = {r.task_id: r for r in check_tasks(tmp_path, _caps())}
    assert results["good"].runnable
    assert not results["bad"].runnable
    assert "field 'evaluator': missing" in results["bad"].problems[0]


@needs_sample
def test_cli_reports_the_sample() -> None:
    runner = CliRunner()
    result = runner.invoke(osworld_app, ["check", str(SAMPLE), "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["task_id"]: row for row in map(json.loads, result.output.splitlines())}
    assert len(rows) == 5
    clone = rows["acb0f96b-e27c-44d8-b55f-7cb76609dfcd"]
    assert not clone["runnable"]
    assert any("not available offline" in p for p in clone["problems"])
    assert rows["b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa"]["runnable"]  # infeasible: nothing to set up
    table = runner.invoke(osworld_app, ["check", str(SAMPLE)], env={"COLUMNS": "200"})
    assert table.exit_code == 0
    runnable = sum(row["runnable"] for row in rows.values())
    assert f"{runnable} of 5 tasks can run here." in table.output
    assert "acb0f96b-e27c-44d8-b55f-7cb76609dfcd" in table.output


def test_cli_fails_cleanly_on_a_missing_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(osworld_app, ["check", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "no such file or folder" in result.output
