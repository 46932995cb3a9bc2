"""OSWorld's general metrics: literal values, text files and lists.

Each takes the ``result`` getter's value, then the ``expected`` getter's value when the
task has one, then the task's ``options``, and returns a score in [0, 1], as OSWorld's
functions of the same names do. A missing result (None) scores 0.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from steadyhand.environments.desktop.osworld.components import metrics, register


def _read_text(path: str | None) -> str | None:
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


@register(metrics, "infeasible")
def infeasible(*args: Any, **options: Any) -> float:
    """Placeholder: ``func: "infeasible"`` is decided by the agent's last action, never called."""
    raise RuntimeError("infeasible tasks are scored by the evaluator from the last action")


@register(metrics, "exact_match")
def exact_match(result: Any, rules: dict[str, Any], **options: Any) -> float:
    """1 when ``result == rules["expected"]`` (strings compare exactly, newlines included)."""
    return float(result == rules["expected"])


@register(metrics, "check_include_exclude")
def check_include_exclude(result: Any, rules: dict[str, Any], **options: Any) -> float:
    """1 when every ``include`` string is in ``result`` and no ``exclude`` string is."""
    if result is None:
        return 0.0
    text = str(result)
    include, exclude = rules.get("include", []), rules.get("exclude", [])
    return float(all(s in text for s in include) and not any(s in text for s in exclude))


@register(metrics, "is_in_list")
def is_in_list(result: Any, rules: dict[str, Any], **options: Any) -> float:
    """1 when ``rules["expected"]`` is an element (or substring) of ``result``."""
    if result is None:
        return 0.0
    try:
        return float(rules["expected"] in result)
    except TypeError:
        return 0.0


@register(metrics, "match_in_list")
def match_in_list(result: Any, rules: dict[str, Any], **options: Any) -> float:
    """1 when ``result`` is one of ``rules["expected"]``."""
    return float(result in rules["expected"])


@register(metrics, "fuzzy_match")
def fuzzy_match(result: Any, rules: dict[str, Any], **options: Any) -> float:
    """The similarity ratio (0-1, rapidfuzz's ``ratio``) of ``result`` and ``rules["expected"]``."""
    if result is None:
        return 0.0
    return float(fuzz.ratio(str(result), str(rules["expected"]))) / 100.0


@register(metrics, "literal_match")
def literal_match(result: Any, expected: Any, **options: Any) -> float:
    """``result`` equals ``expected`` as strings (``type: "str"``) or element-wise (``type: "list"``);
    ``ignore_case`` folds case."""
    fold = (lambda s: str(s).lower()) if options.get("ignore_case", False) else str
    if options.get("type", "str") == "list":
        if not isinstance(result, list | tuple) or not isinstance(expected, list | tuple):
            return 0.0
        return float([fold(v) for v in result] == [fold(v) for v in expected])
    return float(fold(result) == fold(expected))


@register(metrics, "check_list")
def check_list(result: str | None, rules: dict[str, Any], **options: Any) -> float:
    """For the text file ``result``: every ``expect`` regex matches some line, no
    ``unexpect`` regex matches any line."""
    text = _read_text(result)
    if text is None:
        return 0.0
    expect = [re.compile(p) for p in rules.get("expect", [])]
    unexpect = [re.compile(p) for p in rules.get("unexpect", [])]
    lines = text.splitlines()
    found = all(any(p.search(line) for line in lines) for p in expect)
    clean = not any(p.search(line) for p in unexpect for line in lines)
    return float(found and clean)


@register(metrics, "file_contains")
def file_contains(result: str | None, config: dict[str, Any], **options: Any) -> float:
    """1 when the text file ``result`` contains every string of ``config["expected"]``
    (a single string counts as a list of one)."""
    text = _read_text(result)
    if text is None:
        return 0.0
    expected = config["expected"]
    wanted = [expected] if isinstance(expected, str) else list(expected)
    return float(all(str(s) in text for s in wanted))


_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)")


@register(metrics, "check_line_number")
def check_line_number(result: str | None, line_number: dict[str, Any], **options: Any) -> float:
    """1 when the number of lines of ``result`` holding an ``HH:MM:SS`` time equals ``expected``."""
    text = _read_text(result)
    if text is None:
        return 0.0
    try:
        wanted = int(line_number["expected"])
    except (TypeError, ValueError):
        return 0.0
    return float(sum(1 for line in text.splitlines() if _TIME.search(line)) == wanted)


def _normalise(text: str, *, ignore_blanks: bool, ignore_case: bool) -> str:
    if ignore_blanks:
        text = re.sub(r"\s+", " ", re.sub(r"[\t\n]", " ", text).strip())
    return text.lower() if ignore_case else text


@register(metrics, "compare_text_file")
def compare_text_file(result: str | None, expected: str | None, **options: Any) -> float:
    """1 when the two text files are equal; ``ignore_blanks`` collapses whitespace,
    ``ignore_case`` folds case."""
    actual, gold = _read_text(result), _read_text(expected)
    if actual is None or gold is None:
        return 0.0
    flags = {"ignore_blanks": bool(options.get("ignore_blanks", False)),
             "ignore_case": bool(options.get("ignore_case", False))}
    return float(_normalise(actual, **flags) == _normalise(gold, **flags))


@register(metrics, "diff_text_file")
def diff_text_file(result: str | None, expected: str | None, **options: Any) -> float:
    """The line-level similarity ratio (difflib) of two text files."""
    actual, gold = _read_text(result), _read_text(expected)
    if actual is None or gold is None:
        return 0.0
    return difflib.SequenceMatcher(a=actual.splitlines(), b=gold.splitlines()).ratio()
