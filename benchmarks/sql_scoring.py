"""Execution-accuracy scoring throughput on sql-mini: steadyhand's scorer against the official BIRD way.

1,000 predictions over the sql-mini questions, half right (the gold query, or the gold
query reformatted) and half wrong (perturbed: a changed literal, a flipped sort order,
a dropped WHERE, a broken column, a syntax error...). Both sides give BIRD verdicts
(set equality of result rows, errors score 0):

* baseline: what the official BIRD evaluation does per item - open a new sqlite3
  connection, execute the predicted and the gold query, compare, close - sequentially.
  (The official script also starts a ``func_timeout`` thread per query; the baseline
  uses a cheaper progress-handler time limit, so it is, if anything, flattered.)
* steadyhand: :class:`~steadyhand.environments.sql.ExecutionScorer` - one read-only
  ``immutable`` connection per database, gold results cached per (database, query).
  Also measured without the gold cache, and with Spider test-suite scoring (every
  variant database of the folder) for reference.

The verdicts of both sides must agree on every prediction.

    python benchmarks/sql_scoring.py [--predictions 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from collections.abc import Callable
from typing import Any

import sqlglot
from rich.console import Console
from rich.table import Table
from sqlglot import exp

from steadyhand.core import Task
from steadyhand.environments.sql import ExecutionScorer, load_sql_mini

TIMEOUT_S = 30.0


# --- predictions -------------------------------------------------------------------------------


def _bump_literal(sql: str) -> str:
    tree: Any = sqlglot.parse_one(sql, read="sqlite")
    for node in tree.find_all(exp.Literal):
        if node.is_number:
            node.replace(exp.Literal.number(int(float(node.this)) + 1))
            return str(tree.sql(dialect="sqlite"))
        if node.is_string:
            node.replace(exp.Literal.string(node.this + "x"))
            return str(tree.sql(dialect="sqlite"))
    return sql + " LIMIT 0"


def _flip_order(sql: str) -> str:
    if " DESC" in sql:
        return sql.replace(" DESC", " ASC", 1)
    if "ORDER BY" in sql:
        return sql.replace(" LIMIT", " DESC LIMIT", 1) if " LIMIT" in sql else sql + " DESC"
    return sql.replace("SELECT ", "SELECT DISTINCT ", 1) if "DISTINCT" not in sql else sql.replace("DISTINCT ", "")


def _drop_where(sql: str) -> str:
    tree: Any = sqlglot.parse_one(sql, read="sqlite")
    select = tree if isinstance(tree, exp.Select) else tree.find(exp.Select)
    if select is not None and select.args.get("where") is not None:
        select.set("where", None)
        return str(tree.sql(dialect="sqlite"))
    return sql.replace("SELECT ", "SELECT 1, ", 1)


PERTURBATIONS: list[Callable[[str], str]] = [
    _bump_literal,
    _flip_order,
    _drop_where,
    lambda sql: sql.replace(" FROM ", " FORM ", 1),  # syntax error
    lambda sql: sql.replace("SELECT ", "SELECT no_such_column, ", 1),  # execution error
]
REWRITES: list[Callable[[str], str]] = [
    lambda sql: sql,
    lambda sql: "  " + sql.replace(" FROM ", "\n  FROM ") + " ;",
]


def predictions(tasks: list[Task], n: int) -> list[tuple[str, str, str]]:
    """``n`` (predicted, gold, database) triples, every other one perturbed."""
    items = []
    for i in range(n):
        task = tasks[i % len(tasks)]
        gold = task.evaluator["gold"]
        if i % 2 == 0:
            predicted = REWRITES[(i // 2) % len(REWRITES)](gold)
        else:
            predicted = PERTURBATIONS[(i // 2) % len(PERTURBATIONS)](gold)
        items.append((predicted, gold, task.evaluator["database"]))
    return items


# --- the two sides -----------------------------------------------------------------------------


def _execute(cursor: sqlite3.Cursor, sql: str) -> list[Any]:
    deadline = time.monotonic() + TIMEOUT_S
    cursor.connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
    cursor.execute(sql)
    return cursor.fetchall()


def baseline(items: list[tuple[str, str, str]]) -> list[bool]:
    """Official BIRD evaluation: a new connection per item, predicted then gold, set equality."""
    verdicts = []
    for predicted, gold, database in items:
        conn = sqlite3.connect(database)
        try:
            cursor = conn.cursor()
            predicted_res = _execute(cursor, predicted)
            gold_res = _execute(cursor, gold)
            verdicts.append(set(predicted_res) == set(gold_res))
        except Exception:
            verdicts.append(False)
        finally:
            conn.close()
    return verdicts


def steadyhand(items: list[tuple[str, str, str]], *, gold_cache: bool = True) -> list[bool]:
    with ExecutionScorer(timeout_s=TIMEOUT_S, gold_cache_size=4096 if gold_cache else 0) as scorer:
        return [scorer.score(p, gold=g, database=d, metric="bird").correct for p, g, d in items]


def test_suite(items: list[tuple[str, str, str]], suites: dict[str, list[str]]) -> list[bool]:
    with ExecutionScorer(timeout_s=TIMEOUT_S) as scorer:
        return [scorer.score(p, gold=g, database=d, metric="spider", test_suite=suites[d]).correct
                for p, g, d in items]


def best_of(repeats: int, run: Callable[[], list[bool]]) -> tuple[float, list[bool]]:
    best, verdicts = float("inf"), []
    for _ in range(repeats):
        started = time.perf_counter()
        verdicts = run()
        best = min(best, time.perf_counter() - started)
    return best, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--predictions", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3, help="runs per side; the fastest counts")
    args = parser.parse_args()
    tasks = list(load_sql_mini())
    items = predictions(tasks, args.predictions)
    suites = {t.evaluator["database"]: t.evaluator["test_suite"] for t in tasks}
    n = len(items)

    base_s, base_verdicts = best_of(args.repeats, lambda: baseline(items))
    ours_s, ours_verdicts = best_of(args.repeats, lambda: steadyhand(items))
    nocache_s, nocache_verdicts = best_of(args.repeats, lambda: steadyhand(items, gold_cache=False))
    suite_s, suite_verdicts = best_of(args.repeats, lambda: test_suite(items, suites))

    agree = sum(a == b for a, b in zip(base_verdicts, ours_verdicts, strict=True))
    agree_nocache = sum(a == b for a, b in zip(base_verdicts, nocache_verdicts, strict=True))
    table = Table(title=f"Execution-accuracy scoring, {n} predictions over sql-mini ({len(tasks)} questions), "
                        f"best of {args.repeats}")
    for column in ("scorer", "metric", "seconds", "predictions/s", "vs baseline", "correct", "agrees with baseline"):
        table.add_column(column, justify="left" if column in ("scorer", "metric") else "right")
    table.add_row("baseline: new connection per item, sequential", "bird", f"{base_s:.3f}", f"{n / base_s:,.0f}",
                  "1.00x", str(sum(base_verdicts)), "-")
    table.add_row("steadyhand: pooled read-only + gold cache", "bird", f"{ours_s:.3f}", f"{n / ours_s:,.0f}",
                  f"{base_s / ours_s:.2f}x", str(sum(ours_verdicts)), f"{agree}/{n}")
    table.add_row("steadyhand: pooled read-only, no gold cache", "bird", f"{nocache_s:.3f}", f"{n / nocache_s:,.0f}",
                  f"{base_s / nocache_s:.2f}x", str(sum(nocache_verdicts)), f"{agree_nocache}/{n}")
    table.add_row("steadyhand: test-suite, 3 databases each", "spider", f"{suite_s:.3f}", f"{n / suite_s:,.0f}",
                  f"{base_s / suite_s:.2f}x", str(sum(suite_verdicts)), "(stricter metric)")
    Console(width=150).print(table)
    print(f"verdict agreement with the baseline: {agree}/{n} (pooled + cache), {agree_nocache}/{n} (no cache)")
    if agree != n or agree_nocache != n:
        raise SystemExit("verdicts disagree with the baseline")
    print(json.dumps({"predictions_per_s": round(n / ours_s, 1), "baseline_predictions_per_s": round(n / base_s, 1),
                      "ratio": round(base_s / ours_s, 2), "no_gold_cache_predictions_per_s": round(n / nocache_s, 1),
                      "agreement": agree / n, "predictions": n, "correct": sum(ours_verdicts)}))


if __name__ == "__main__":
    main()
