"""Problem sources: the official CodeARC layout, JSON Lines, the built-in codearc-mini suite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from steadyhand.core import DatasetError, suites
from steadyhand.environments.code import (
    Problem,
    codearc_suite,
    jsonl_suite,
    load_codearc,
    load_jsonl,
    load_mini,
    rename_function,
    target_name,
)
from steadyhand.environments.code.problems import error_summary
from steadyhand.environments.code.suites import MINI_SOURCES
from steadyhand.evals import resolve_suite


def test_the_target_is_the_last_def_or_the_one_not_named_main() -> None:
    assert target_name("def helper(x):\n    return x\n\ndef f(x):\n    return helper(x)\n") == "f"
    assert target_name("def f(x):\n    return x\n\ndef main():\n    print(f(1))\n") == "f"
    with pytest.raises(DatasetError, match="no top-level function"):
        target_name("x = 1\n")
    with pytest.raises(DatasetError, match="does not parse"):
        target_name("def f(:\n")


def test_anonymising_renames_calls_but_not_strings() -> None:
    source = "def fact(n):\n    # fact is recursive\n    return 1 if n < 2 else n * fact(n - 1)  # 'fact'\n"
    renamed = rename_function(source, "fact")
    assert "def solution(n)" in renamed and "n * solution(n - 1)" in renamed
    assert "# fact is recursive" in renamed and "# 'fact'" in renamed


def _official_layout(root: Path) -> None:
    for variant, name in (("annotated", "double"), ("anonymous", "solution")):
        folder = root / "dataset" / variant
        folder.mkdir(parents=True)
        (folder / "0.py").write_text(f"def {name}(x):\n    return 2 * x\n")
        (folder / "1.py").write_text(f"def {name}(x):\n    if x < 0:\n        raise ValueError('negative')\n"
                                     f"    return x\n\ndef main():\n    {name}(1)\n")
        inv = root / "prompt_invocations" / variant / "num_invocations=10" / "llm" / "invocations.json"
        inv.parent.mkdir(parents=True)
        traceback = ('Traceback (most recent call last):\n  File "x.py", line 3, in ' + name +
                     "\n    raise ValueError('negative')\nValueError: negative")
        inv.write_text(json.dumps({
            "0": {"0": {"input": f"print('Result 1: ' + str({name}(2)))", "output": "Result 1: 4", "errored": False}},
            "1": {"0": {"input": f"print('Result 1: ' + str({name}(-1)))", "output": traceback, "errored": True},
                  "1": {"input": f"print('Result 2: ' + str({name}(5)))", "output": "Result 2: 5", "errored": False}},
        }))


def test_official_layout_loads_both_variants_and_hides_tracebacks(tmp_path: Path) -> None:
    _official_layout(tmp_path)
    problems = load_codearc(tmp_path)
    assert [(p.id, p.name) for p in problems] == [("0-annotated", "double"), ("1-annotated", "double"),
                                                  ("0-anonymous", "solution"), ("1-anonymous", "solution")]
    errored = problems[1].examples[0]
    assert errored.errored and errored.output == "Result 1: raised ValueError: negative"
    assert "raise ValueError" not in json.dumps([p.model_dump(exclude={"source"}) for p in problems])
    suite = codearc_suite(tmp_path, name="arc")
    assert [t.id for t in suite.load()][:2] == ["arc-0-annotated", "arc-1-annotated"]
    assert load_codearc(tmp_path / "dataset", ("anonymous",), limit=1)[0].id == "0-anonymous"


def test_official_layout_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no annotated/ folder"):
        load_codearc(tmp_path)
    _official_layout(tmp_path)
    (tmp_path / "dataset" / "annotated" / "2.py").write_text("def f(x):\n    return x\n")
    with pytest.raises(DatasetError, match="item 2: no invocations"):
        load_codearc(tmp_path)


def test_jsonl_with_examples_or_bare_invocations(tmp_path: Path) -> None:
    path = tmp_path / "problems.jsonl"
    path.write_text(
        json.dumps({"id": "a", "source": "def f(x):\n    return -x\n",
                    "examples": [{"invocation": "f(1)", "output": "Result 1: -1"}], "topic": "math"}) + "\n\n" +
        json.dumps({"id": "b", "source": "def g(s):\n    return s[::-1]\n", "variant": "anonymous",
                    "invocations": ["g('ab')"]}) + "\n")
    a, b = load_jsonl(path)
    assert a.name == "f" and a.metadata == {"topic": "math"} and a.examples[0].output == "Result 1: -1"
    assert b.variant == "anonymous" and b.examples[0].output is None
    assert [t.id for t in jsonl_suite(path).load()] == ["problems-a", "problems-b"]


@pytest.mark.parametrize(("line", "message"), [
    ("not json", "line 1: not JSON"),
    ('{"id": "x"}', "field 'source': missing"),
    ('{"source": "def f(): pass", "variant": "secret"}', "field 'variant'"),
    ('{"source": "def f(): pass", "invocations": ["f()"], "outputs": []}', "field 'outputs'"),
])
def test_jsonl_errors_name_the_line_and_field(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(DatasetError, match=message):
        load_jsonl(path)


def test_problems_round_trip_through_tasks() -> None:
    problem = Problem(id="p", name="f", source="def f(x):\n    return x\n", variant="anonymous",
                      metadata={"topic": "t"})
    task = problem.to_task("suite-p")
    assert task.environment == "code" and task.metadata["function_name"] == "f"
    assert Problem.from_task(task) == problem
    assert error_summary("Traceback ...\n  File x\nKeyError: 'k'\n") == "KeyError: 'k'"


def test_codearc_mini_has_both_variants_of_at_least_forty_functions() -> None:
    problems = load_mini()
    sources = yaml.safe_load(MINI_SOURCES.read_text())
    assert len(sources) >= 40 and len(problems) == 2 * len(sources)
    assert {p.metadata["topic"] for p in problems} >= {"strings", "lists", "arithmetic", "dictionaries", "logic"}
    for spec, (annotated, anonymous) in zip(sources, zip(problems[::2], problems[1::2], strict=True), strict=True):
        assert (annotated.name, anonymous.name) == (spec["name"], "solution")
        assert annotated.source == spec["source"] and spec["name"] not in anonymous.source
        assert len(annotated.examples) == len(anonymous.examples) == 10
        assert [e.output for e in annotated.examples] == [e.output for e in anonymous.examples]
    suite = resolve_suite("codearc-mini")
    tasks = suite.load()
    assert suite.environment == "code" and suite.default_agent == "codearc"
    assert tasks[0].id == "codearc-mini-0-annotated" and tasks[1].id == "codearc-mini-0-anonymous"
    assert "codearc-mini" in suites
