"""OSWorld scoring rules that need no desktop: infeasible/FAIL, conj, unsupported components.

Evaluators here read only ``rule`` getters and local files, so no control server is
involved (``client=None``); the same code paths against a real desktop are in
``test_osworld_desktop.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from steadyhand.core import Done, Fail, Task, Wait
from steadyhand.environments.desktop.osworld import OSWorldOptions, UnsupportedTask, evaluate_task, is_fail, run_setup

OPTIONS = OSWorldOptions()


def _task(evaluator: dict[str, Any], setup: list[dict[str, Any]] | None = None, path: str | None = None) -> Task:
    return Task(id="t", instruction="x", environment="desktop", setup=setup or [], evaluator=evaluator,
                metadata={"path": path} if path else {})


def _rule(expected: Any) -> dict[str, Any]:
    return {"type": "rule", "rules": {"expected": expected}}


def _score(evaluator: dict[str, Any], last: Any = None, **kw: Any) -> Any:
    return evaluate_task(None, _task(evaluator, **kw), last, options=OPTIONS)  # type: ignore[arg-type]


def test_infeasible_scores_one_only_after_fail() -> None:
    infeasible = {"func": "infeasible"}
    assert _score(infeasible, Fail(reason="no bluetooth")).value == 1.0
    assert _score(infeasible, Done()).value == 0.0
    assert _score(infeasible, Wait()).value == 0.0
    assert _score(infeasible, None).value == 0.0
    assert _score(infeasible, "FAIL").value == 1.0
    assert _score(infeasible, {"action_type": "FAIL"}).value == 1.0


def test_final_fail_on_a_feasible_task_scores_zero() -> None:
    feasible = {"func": "exact_match", "result": {"type": "rule", "rules": "a"}, "expected": _rule("a")}
    assert _score(feasible, Done()).value == 1.0
    score = _score(feasible, Fail())
    assert score.value == 0.0 and "FAIL" in score.details["reason"]
    assert is_fail(Fail()) and not is_fail(Done()) and not is_fail("DONE")


def test_rule_getters_feed_metrics() -> None:
    """exact_match(result=rules of the result getter, expected=rules of the expected getter)."""
    score = _score({"func": "exact_match", "result": {"type": "rule", "rules": "x"},
                    "expected": {"type": "rule", "rules": {"expected": "x"}}})
    assert score.value == 1.0 and score.components == {"0:exact_match": 1.0}
    assert _score({"func": "exact_match", "result": {"type": "rule", "rules": "y"},
                   "expected": {"type": "rule", "rules": {"expected": "x"}}}).value == 0.0


def _two(first: float | str, second: float | str, conj: str) -> dict[str, Any]:
    """Two fuzzy_match metrics whose scores are ``first`` and ``second`` (1, 0 or a fraction)."""
    def pair(value: float | str) -> tuple[dict[str, Any], dict[str, Any]]:
        text = {1.0: "abcd", 0.0: "wxyz", 0.5: "abzz"}[float(value)]
        return {"type": "rule", "rules": text}, _rule("abcd")
    (r1, e1), (r2, e2) = pair(first), pair(second)
    return {"func": ["fuzzy_match", "fuzzy_match"], "conj": conj, "result": [r1, r2], "expected": [e1, e2]}


@pytest.mark.parametrize(("first", "second", "conj", "value"), [
    (1.0, 1.0, "and", 1.0),
    (1.0, 0.0, "and", 0.0),
    (0.0, 1.0, "and", 0.0),
    (1.0, 0.5, "and", 0.75),     # no 0: the mean
    (0.5, 0.5, "and", 0.5),
    (0.0, 1.0, "or", 1.0),       # any 1: 1
    (0.5, 0.0, "or", 0.5),       # else the max
    (0.0, 0.0, "or", 0.0),
])
def test_conj_follows_osworld(first: float, second: float, conj: str, value: float) -> None:
    score = _score(_two(first, second, conj))
    assert score.value == pytest.approx(value)
    assert score.error is None


def test_and_stops_at_the_first_zero() -> None:
    score = _score(_two(0.0, 1.0, "and"))
    assert list(score.components) == ["0:fuzzy_match"]


def test_missing_result_file_scores_that_item_zero(tmp_path: Path) -> None:
    gold = tmp_path / "gold.txt"
    gold.write_text("same\n")
    ok = {"type": "cloud_file", "path": str(gold), "dest": "mine.txt"}
    missing = {"type": "cache_file", "path": "nowhere.txt"}
    evaluator = {"func": ["compare_text_file", "compare_text_file"], "conj": "or",
                 "result": [missing, ok], "expected": [ok, {"type": "cloud_file", "path": gold.as_uri(), "dest": "g"}]}
    score = _score(evaluator, path=str(tmp_path / "task.json"))
    assert score.value == 1.0
    assert "file not found" in score.details["items"][0]["result"]
    assert _score({**evaluator, "conj": "and"}, path=str(tmp_path / "task.json")).value == 0.0
    only_missing = {"func": "compare_text_file", "result": missing, "expected": ok}
    assert _score(only_missing, path=str(tmp_path / "task.json")).value == 0.0


def test_relative_cloud_file_resolves_next_to_the_task(tmp_path: Path) -> None:
    (tmp_path / "gold").mkdir()
    (tmp_path / "gold" / "a.txt").write_text("hello\n")
    getter = {"type": "cloud_file", "path": "gold/a.txt", "dest": "a.txt"}
    score = _score({"func": "file_contains", "result": getter, "expected": _rule(["hello"])},
                   path=str(tmp_path / "task.json"))
    assert score.value == 1.0


def test_remote_file_without_cache_is_unsupported_not_a_crash(tmp_path: Path) -> None:
    remote = {"type": "cloud_file", "path": "https://example.com/gold.txt", "dest": "gold.txt"}
    score = _score({"func": "compare_text_file", "result": remote, "expected": remote})
    assert score.value == 0.0
    assert "not available offline" in (score.error or "")
    cache = tmp_path / "cache"
    (cache / "t").mkdir(parents=True)
    (cache / "t" / "gold.txt").write_text("gold")
    cached = evaluate_task(None, _task({"func": "compare_text_file", "result": remote, "expected": remote}),  # type: ignore[arg-type]
                           None, options=OSWorldOptions(file_cache=cache))
    assert cached.value == 1.0


def test_unknown_metric_getter_or_step_is_reported_by_name() -> None:
    score = _score({"func": ["exact_match", "compare_pptx_files"], "result": [_rule(1), {"type": "vm_screen"}],
                    "expected": [_rule(1), None], "postconfig": [{"type": "googledrive", "parameters": {}}]})
    assert score.value == 0.0
    assert score.details["unsupported"] == [["setup step", "googledrive"], ["metric", "compare_pptx_files"],
                                            ["getter", "vm_screen"]]
    with pytest.raises(UnsupportedTask, match=r"setup step 'login' is not supported here: task t \(also: metric"):
        run_setup(None, _task({"func": "nope", "result": _rule(1)}, setup=[{"type": "login", "parameters": {}}]),  # type: ignore[arg-type]
                  options=OPTIONS)


def test_a_broken_metric_is_an_error_not_a_silent_zero() -> None:
    score = _score({"func": "check_include_exclude", "result": _rule("x"), "expected": {"type": "rule", "rules": 5}})
    assert score.value == 0.0
    assert score.error is not None and "check_include_exclude: AttributeError" in score.error


def test_placeholders_replace_only_their_names() -> None:
    from steadyhand.environments.desktop.osworld.placeholders import Placeholders, placeholders_in

    command = ["sh", "-c", "echo {CLIENT_PASSWORD} | sudo -S true; awk '{print $5}' {unknown}"]
    assert placeholders_in({"command": command, "n": 3}) == {"CLIENT_PASSWORD"}
    assert placeholders_in(["{SCREEN_WIDTH_HALF}", {"p": "{HOME}/x"}]) == {"SCREEN_WIDTH_HALF", "HOME"}
    # only the password is asked for, so no desktop is needed
    out = Placeholders(None, password="pw").substitute({"command": command, "shell": True})  # type: ignore[arg-type]
    assert out == {"command": ["sh", "-c", "echo pw | sudo -S true; awk '{print $5}' {unknown}"], "shell": True}
