"""OSWorld's table metrics: ``compare_table`` (spreadsheets) and ``compare_csv``.

``compare_table(result, expected=None, rules=[...])`` applies its rules in order and
scores 1 only when all hold. Rules implemented here, with OSWorld's meaning:

* ``sheet_name``: both books have the same sheet names in the same order;
* ``sheet_data``: two sheets hold equal values (numbers rounded to ``precision``, 4 by default);
* ``sheet_fuzzy``: per-cell comparisons over ranges (``exact_match``, ``fuzzy_match`` with a
  ``threshold``, ``includes``, ``included_by``; ``ignore_case``, ``ignore_chars``,
  ``trim_leadings``, ``trim_trailings``, ``normalization``);
* ``check_cell``: one cell's ``props`` each match a ``{method, ref}`` rule; props are
  ``value``, the style properties of :data:`~.sheets.STYLE_PROPS` (.xlsx only) and, as a
  steadyhand addition, ``formula``.

Sheets are named as in OSWorld: an int or ``"RI<n>"`` (result sheet by index), ``"RN<name>"``
(result sheet by name), ``"EI<n>"`` / ``"EN<name>"`` (expected). Any other rule type makes
the task unsupported (the static check lists it).
"""

from __future__ import annotations

import functools
import operator
import re
from pathlib import Path
from typing import Any

from openpyxl.worksheet.cell_range import MultiCellRange
from rapidfuzz import fuzz

from steadyhand.environments.desktop.osworld.components import metrics, register
from steadyhand.environments.desktop.osworld.context import StaticContext, UnsupportedTask
from steadyhand.environments.desktop.osworld.metrics.sheets import STYLE_PROPS, Book, SheetError, coordinate, open_book

RULES = ("sheet_name", "sheet_data", "sheet_fuzzy", "check_cell")


def match_value_to_rule(value: Any, rule: dict[str, Any]) -> bool:
    """OSWorld's ``{method, ref}`` rule: ``eq ne le lt ge gt`` compare, ``re[.FLAG...]`` searches,
    ``approx:<tolerance>`` compares numbers, ``str_list_eq`` / ``str_set_eq`` compare
    comma-separated values."""
    method, ref = str(rule["method"]), rule["ref"]
    if method.startswith("re"):
        flags = functools.reduce(operator.or_, (getattr(re, f) for f in method.split(".")[1:]), re.RegexFlag(0))
        return re.search(str(ref), "" if value is None else str(value), flags) is not None
    if method in ("eq", "ne", "le", "lt", "ge", "gt"):
        try:
            return bool(getattr(operator, method)(value, ref))
        except TypeError:
            return False
    if method.startswith("approx:"):
        try:
            return abs(float(value) - float(ref)) <= float(method.split(":", 1)[1])
        except (TypeError, ValueError):
            return False
    if method in ("str_list_eq", "str_set_eq"):
        items = [] if value is None else [s.strip() for s in str(value).split(",")]
        refs = [str(s) for s in ref]
        return items == refs if method == "str_list_eq" else set(items) == set(refs)
    raise UnsupportedTask("rule method", method)


class _Books:
    def __init__(self, result: Book, expected: Book | None) -> None:
        self.result, self.expected = result, expected

    def sheet(self, index: int | str) -> tuple[Book, str]:
        if isinstance(index, int):
            book, name = self.result, self._by_position(self.result, index)
        elif index[:2] in ("RI", "EI"):
            book = self._book(index)
            name = self._by_position(book, int(index[2:]))
        elif index[:2] in ("RN", "EN"):
            book, name = self._book(index), index[2:]
        else:
            raise ValueError(f"unrecognised sheet index {index!r}")
        if name not in book.sheet_names:
            raise KeyError(f"no sheet {name!r} in {book.path.name}")
        return book, name

    def _book(self, index: str) -> Book:
        if index.startswith("E"):
            if self.expected is None:
                raise ValueError(f"sheet {index!r} names the expected book, but the task has none")
            return self.expected
        return self.result

    @staticmethod
    def _by_position(book: Book, position: int) -> str:
        if not 0 <= position < len(book.sheet_names):
            raise KeyError(f"{book.path.name} has no sheet number {position}")
        return book.sheet_names[position]


def _rounded(grid: list[list[Any]], digits: int) -> list[list[Any]]:
    return [[round(v, digits) if isinstance(v, float) else v for v in row] for row in grid]


def _fuzzy_cell(a: str, b: str, spec: dict[str, Any]) -> bool:
    for old, new in spec.get("normalization", []):
        a, b = a.replace(old, new), b.replace(old, new)
    if "trim_leadings" in spec:
        a, b = a.lstrip(spec["trim_leadings"]), b.lstrip(spec["trim_leadings"])
    if "trim_trailings" in spec:
        a, b = a.rstrip(spec["trim_trailings"]), b.rstrip(spec["trim_trailings"])
    if "ignore_chars" in spec:
        drop = set(spec["ignore_chars"])
        a, b = "".join(ch for ch in a if ch not in drop), "".join(ch for ch in b if ch not in drop)
    if spec.get("ignore_case", False):
        a, b = a.lower(), b.lower()
    kind = spec["type"]
    if kind == "includes":
        return b in a
    if kind == "included_by":
        return a in b
    if kind == "fuzzy_match":
        return fuzz.ratio(a, b) >= float(spec.get("threshold", 85.0))
    if kind == "exact_match":
        return a == b
    raise UnsupportedTask("sheet_fuzzy type", str(kind))


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _apply(rule: dict[str, Any], books: _Books) -> bool:
    kind = rule["type"]
    if kind == "sheet_name":
        return books.expected is not None and books.result.sheet_names == books.expected.sheet_names
    if kind == "sheet_data":
        digits = int(rule.get("precision", 4))
        (b0, s0), (b1, s1) = books.sheet(rule["sheet_idx0"]), books.sheet(rule["sheet_idx1"])
        return _rounded(b0.grid(s0), digits) == _rounded(b1.grid(s1), digits)
    if kind == "sheet_fuzzy":
        (b0, s0), (b1, s1) = books.sheet(rule["sheet_idx0"]), books.sheet(rule["sheet_idx1"])
        for spec in rule["rules"]:
            for cell_range in MultiCellRange(" ".join(spec["range"])):
                for row, col in cell_range.cells:
                    at = coordinate(row, col)
                    if not _fuzzy_cell(_text(b0.value(s0, at)), _text(b1.value(s1, at)), spec):
                        return False
        return True
    if kind == "check_cell":
        book, sheet = books.sheet(rule["sheet_idx"])
        at = str(rule["coordinate"])
        for prop, prop_rule in rule["props"].items():
            if prop == "value":
                value = book.value(sheet, at)
            elif prop == "formula":
                value = book.formula(sheet, at)
            else:
                value = book.style(sheet, at, prop)
            if not match_value_to_rule(value, prop_rule):
                return False
        return True
    raise UnsupportedTask("compare_table rule", str(kind))


def _check_table(options: dict[str, Any], ctx: StaticContext) -> list[str]:
    problems = []
    for i, rule in enumerate(options.get("rules") or []):
        kind = rule.get("type") if isinstance(rule, dict) else None
        if kind not in RULES:
            problems.append(f"compare_table: rule type {kind!r} (rules[{i}]) is not supported")
        elif kind == "check_cell":
            unknown = [p for p in rule.get("props", {}) if p not in ("value", "formula", *STYLE_PROPS)]
            problems += [f"compare_table: check_cell property {p!r} is not supported" for p in unknown]
    if not options.get("rules"):
        problems.append("compare_table: options have no 'rules'")
    return problems


@register(metrics, "compare_table", check=_check_table)
def compare_table(result: str | None, expected: str | None = None, **options: Any) -> float:
    """1 when every rule in ``options["rules"]`` holds (see the module docstring).

    A missing or unreadable result, a missing sheet or cell scores 0.
    """
    if result is None or not Path(result).is_file():
        return 0.0
    try:
        result_book = open_book(result)
    except SheetError:
        return 0.0
    expected_book = open_book(expected) if expected is not None else None
    books = _Books(result_book, expected_book)
    for rule in options.get("rules", []):
        try:
            if not _apply(rule, books):
                return 0.0
        except (KeyError, SheetError):
            return 0.0
    return 1.0


def _lines(path: str) -> list[str]:
    data = Path(path).read_bytes()
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            return data.decode(encoding).splitlines()
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace").splitlines()  # pragma: no cover - latin-1 decodes anything


@register(metrics, "compare_csv")
def compare_csv(result: str | None, expected: str | list[str], **options: Any) -> float:
    """1 when the CSV file ``result`` has the same lines as ``expected`` (or as any of a list of
    expected files); ``strict: false`` strips each line, ``ignore_case`` folds case."""
    if result is None or not Path(result).is_file():
        return 0.0
    got = _lines(result)
    for gold_path in [expected] if isinstance(expected, str) else expected:
        if gold_path is None or not Path(gold_path).is_file():
            continue
        a, b = got, _lines(gold_path)
        if not options.get("strict", True):
            a, b = [s.strip() for s in a], [s.strip() for s in b]
        if options.get("ignore_case", False):
            a, b = [s.lower() for s in a], [s.lower() for s in b]
        if a == b:
            return 1.0
    return 0.0
