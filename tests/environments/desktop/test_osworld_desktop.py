"""OSWorld setup steps, getters and scoring against a real local desktop (Xvfb + control server).

Everything goes through the real :class:`DesktopClient` of a desktop started by the
``local`` provider; programs are the desktop's own (xterm, Mousepad, wmctrl).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from steadyhand.core import Done, Fail, Task
from steadyhand.environments.desktop.client import DesktopClient
from steadyhand.environments.desktop.osworld import (
    Capabilities,
    OSWorldOptions,
    UnsupportedTask,
    check_task,
    evaluate_task,
    load_tasks,
    run_setup,
)
from steadyhand.environments.desktop.providers.local import LocalProvider, missing_programs

pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(bool(missing_programs()) or shutil.which("xterm") is None,
                       reason="local desktops need Xvfb, openbox, xdotool, wmctrl, xclip and xterm"),
]
SAMPLE = Path(__file__).resolve().parents[4] / "shared" / "data" / "osworld-sample"


@pytest.fixture(scope="module")
def client() -> Iterator[DesktopClient]:
    provider = LocalProvider()
    desktop = provider.start(width=1024, height=768)
    try:
        with desktop.client() as c:
            yield c
    finally:
        provider.close()


def _task(setup: list[dict[str, Any]], evaluator: dict[str, Any] | None = None, path: Path | None = None,
          task_id: str = "t") -> Task:
    return Task(id=task_id, instruction="x", environment="desktop", setup=setup,
                evaluator=evaluator or {"func": "infeasible"}, metadata={"path": str(path)} if path else {})


def _sh(script: str) -> dict[str, Any]:
    return {"type": "execute", "parameters": {"command": ["sh", "-c", script]}}


def _windows(client: DesktopClient) -> str:
    return str(client.execute(["wmctrl", "-l"])["output"])


def test_setup_steps_placeholders_and_downloads(client: DesktopClient, tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "rel.txt").write_text("relative\n")
    absolute = tmp_path / "abs.txt"
    absolute.write_text("absolute\n")
    task_file = tmp_path / "task.json"
    setup = [
        {"type": "download", "parameters": {"files": [
            {"url": "files/rel.txt", "path": "{HOME}/osw/rel.txt"},
            {"url": absolute.as_uri(), "path": "{HOME}/osw/abs.txt"}]}},
        {"type": "execute", "parameters": {"command": [
            "sh", "-c", "echo {SCREEN_WIDTH}x{SCREEN_HEIGHT} {SCREEN_WIDTH_HALF} {SCREEN_HEIGHT_HALF} "
                        "{CLIENT_PASSWORD} > {HOME}/osw/ph.txt"]}},
        {"type": "command", "parameters": {"command": "awk 'BEGIN{print 7*6}' > ~/osw/shell.txt", "shell": "true"}},
        # fails twice, then succeeds: `until` repeats it
        {"type": "execute", "parameters": {"command": "n=$(cat ~/osw/n 2>/dev/null || echo 0); n=$((n+1)); "
                                                      "echo $n > ~/osw/n; [ $n -ge 3 ]",
                                           "shell": True, "until": {"returncode": 0}, "stdout": "out.txt"}},
        {"type": "sleep", "parameters": {"seconds": 0.1}},
    ]
    options = OSWorldOptions(client_password="s3cret", work_dir=tmp_path / "work")
    run_setup(client, _task(setup, path=task_file), options=options)
    home = client.execute(["sh", "-c", 'printf %s "$HOME"'])["output"]
    assert client.get_file(f"{home}/osw/rel.txt") == b"relative\n"
    assert client.execute("cat ~/osw/abs.txt ~/osw/ph.txt ~/osw/shell.txt ~/osw/n", shell=True)["output"] == \
        "absolute\n1024x768 512 384 s3cret\n42\n3\n"
    assert (tmp_path / "work" / "t" / "out.txt").exists()


def test_windows_launch_activate_close_and_open(client: DesktopClient, tmp_path: Path) -> None:
    wait = _sh("for i in $(seq 300); do wmctrl -l | grep -q osw-term && exit 0; sleep 0.1; done; exit 1")
    run_setup(client, _task([
        {"type": "launch", "parameters": {"command": ["xterm", "-title", "osw-term"]}}, wait,
        {"type": "activate_window", "parameters": {"window_name": "osw-term", "strict": True}}]),
        options=OSWorldOptions())
    assert "osw-term" in _windows(client)
    active = client.execute(["xdotool", "getactivewindow", "getwindowname"])["output"]
    assert active.strip() == "osw-term"
    run_setup(client, _task([{"type": "close_window", "parameters": {"window_name": "osw-term"}}]),
              options=OSWorldOptions())
    deadline = time.monotonic() + 10
    while "osw-term" in _windows(client) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "osw-term" not in _windows(client)
    client.execute("mkdir -p ~/osw && printf 'hello\\n' > ~/osw/opened.txt", shell=True)
    run_setup(client, _task([{"type": "open", "parameters": {"path": "{HOME}/osw/opened.txt"}}]),
              options=OSWorldOptions())
    assert "opened.txt" in _windows(client)
    client.close_window("opened.txt")


def test_unsupported_steps_and_offline_downloads(client: DesktopClient) -> None:
    with pytest.raises(UnsupportedTask, match="setup step 'googledrive'"):
        run_setup(client, _task([{"type": "googledrive", "parameters": {}}]), options=OSWorldOptions())
    with pytest.raises(UnsupportedTask, match="not available offline"):
        run_setup(client, _task([{"type": "download", "parameters": {"files": [
            {"url": "https://example.com/a.xlsx", "path": "/tmp/a.xlsx"}]}}]), options=OSWorldOptions())
    if Capabilities.of_desktop(client).browser is None:
        with pytest.raises(UnsupportedTask, match="chrome_open_tabs"):
            run_setup(client, _task([{"type": "chrome_open_tabs", "parameters": {"urls_to_open": ["x"]}}]),
                      options=OSWorldOptions())


def _rule(expected: Any) -> dict[str, Any]:
    return {"type": "rule", "rules": {"expected": expected}}


def test_getters_and_scoring(client: DesktopClient) -> None:
    client.execute("mkdir -p ~/g/sub && printf 'alpha\\nbeta\\n' > ~/g/a.txt && : > ~/g/sub/b.txt", shell=True)
    evaluator = {
        "func": ["file_contains", "exact_match", "check_include_exclude", "exact_match"], "conj": "and",
        "result": [{"type": "vm_file", "path": "{HOME}/g/a.txt", "dest": "a.txt"},
                   {"type": "vm_command_line", "command": ["cat", "{HOME}/g/a.txt"]},
                   {"type": "vm_command_error", "command": "ls {HOME}/g/nothing", "shell": True},
                   {"type": "list_directory", "path": "{HOME}/g"}],
        "expected": [_rule(["beta"]), _rule("alpha\nbeta\n"),
                     {"type": "rule", "rules": {"include": ["nothing"], "exclude": []}},
                     _rule({"type": "directory", "name": "g", "children": [
                         {"type": "file", "name": "a.txt"},
                         {"type": "directory", "name": "sub", "children": [{"type": "file", "name": "b.txt"}]}]})]}
    score = evaluate_task(client, _task([], evaluator), Done(), options=OSWorldOptions())
    assert score.value == 1.0, score
    assert score.components == {"0:file_contains": 1.0, "1:exact_match": 1.0, "2:check_include_exclude": 1.0,
                                "3:exact_match": 1.0}
    assert evaluate_task(client, _task([], evaluator), Fail(), options=OSWorldOptions()).value == 0.0


def test_missing_file_on_the_desktop_scores_zero(client: DesktopClient) -> None:
    missing = {"type": "vm_file", "path": "{HOME}/nope/never.txt", "dest": "never.txt"}
    single = evaluate_task(client, _task([], {"func": "file_contains", "result": missing,
                                              "expected": _rule(["x"])}), None, options=OSWorldOptions())
    assert single.value == 0.0 and single.error is None
    assert "file not found" in single.details["items"][0]["result"]
    gone = {"type": "list_directory", "path": "{HOME}/nope"}
    assert evaluate_task(client, _task([], {"func": "exact_match", "result": gone, "expected": _rule({})}),
                         None, options=OSWorldOptions()).value == 0.0
    either = {"func": ["file_contains", "exact_match"], "conj": "or", "result": [missing, {
        "type": "vm_command_line", "command": "echo ok", "shell": True}], "expected": [_rule(["x"]), _rule("ok\n")]}
    assert evaluate_task(client, _task([], either), None, options=OSWorldOptions()).value == 1.0


def test_postconfig_runs_before_scoring(client: DesktopClient) -> None:
    evaluator = {"postconfig": [_sh("mkdir -p ~/pc && echo made > ~/pc/out.txt")], "func": "exact_match",
                 "result": {"type": "vm_command_line", "command": "cat ~/pc/out.txt", "shell": True},
                 "expected": _rule("made\n")}
    assert evaluate_task(client, _task([], evaluator), None, options=OSWorldOptions()).value == 1.0


def test_accessibility_and_terminal_getters_return_the_servers_answers(client: DesktopClient) -> None:
    client.execute("mkdir -p ~/a11y && printf 'x\\n' > ~/a11y/tree-probe.txt", shell=True)
    run_setup(client, _task([
        {"type": "launch", "parameters": {"command": ["mousepad", "{HOME}/a11y/tree-probe.txt"]}},
        _sh("for i in $(seq 300); do wmctrl -l | grep -q tree-probe && exit 0; sleep 0.1; done; exit 1")]),
        options=OSWorldOptions())
    evaluator = {"func": ["check_include_exclude", "is_in_list"], "conj": "or",
                 "result": [{"type": "accessibility_tree"}, {"type": "vm_terminal_output"}],
                 "expected": [{"type": "rule", "rules": {"include": ["tree-probe.txt"], "exclude": []}},
                              _rule("never printed")]}
    score = evaluate_task(client, _task([], evaluator), None, options=OSWorldOptions())
    assert score.error is None, score.error
    assert score.value == 1.0, score.details
    client.close_window("tree-probe.txt")


def test_capabilities_of_the_desktop(client: DesktopClient) -> None:
    caps = Capabilities.of_desktop(client)
    assert caps.has("xterm") and caps.has("sh") and not caps.has("no-such-program-xyz")
    task = _task([{"type": "launch", "parameters": {"command": ["no-such-program-xyz"]}}])
    assert check_task(task, caps).problems == (
        "config[0] launch: program 'no-such-program-xyz' is not installed on the desktop",)


@pytest.mark.skipif(not SAMPLE.is_dir(), reason=f"the OSWorld sample files are not at {SAMPLE}")
def test_sample_tasks_set_up_and_score_without_crashing(client: DesktopClient) -> None:
    """Runnable sample tasks run their setup here; the others are scored 0 with the reason, never a crash."""
    caps = Capabilities.of_desktop(client)
    for task in load_tasks(SAMPLE):
        support = check_task(task, caps)
        if support.runnable and not any("internet" in w for w in support.warnings):
            run_setup(client, task, options=OSWorldOptions())
        score = evaluate_task(client, task, None, options=OSWorldOptions())
        assert score.value == 0.0, (task.id, json.dumps(score.model_dump(), default=str)[:500])
        if any("not available offline" in p for p in support.problems):
            assert "not available offline" in (score.error or ""), score


def test_refused_launch_and_window_steps_do_not_stop_setup(client: DesktopClient) -> None:
    """As in OSWorld: a missing window or program is logged and the remaining steps still run."""
    run_setup(client, _task([
        {"type": "activate_window", "parameters": {"window_name": "no such window 123", "strict": True}},
        {"type": "close_window", "parameters": {"window_name": "no such window 123"}},
        {"type": "launch", "parameters": {"command": ["no-such-program-xyz"]}},
        _sh("mkdir -p ~/after && echo reached > ~/after/flag")]), options=OSWorldOptions())
    assert client.execute("cat ~/after/flag", shell=True)["output"] == "reached\n"
