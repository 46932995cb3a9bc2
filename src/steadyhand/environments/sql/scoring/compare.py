"""Result comparison as BIRD and Spider's test-suite evaluation define it.

* BIRD: the *sets* of rows are equal (duplicates and order ignored).
* Spider test-suite: the *multisets* of rows are equal, in order only when the gold
  query ends with ``ORDER BY``; as in the official script, columns may come in any
  order (a permutation of the predicted columns must match the gold ones).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any

import sqlglot
from sqlglot import exp

from steadyhand.environments.sql.results import Row, hashable_row, sqlglot_dialect

#: Column permutations tried before giving up (the signature filter leaves few in practice).
MAX_PERMUTATIONS = 5000


def _hashable(rows: Sequence[Row]) -> Sequence[Row]:
    try:
        for row in rows:
            hash(row)
    except TypeError:
        return [hashable_row(r) for r in rows]
    return rows


def bird_match(predicted: Sequence[Row], gold: Sequence[Row]) -> bool:
    """BIRD execution accuracy: ``set(predicted) == set(gold)``."""
    return set(_hashable(predicted)) == set(_hashable(gold))


def _same_rows(predicted: Sequence[Row], gold: Sequence[Row], ordered: bool) -> bool:
    if ordered:
        return list(predicted) == list(gold)
    return Counter(predicted) == Counter(gold)


def spider_match(predicted: Sequence[Row], gold: Sequence[Row], *, ordered: bool) -> bool:
    """Spider test-suite equality: same multiset of rows (same sequence if ``ordered``), any column order."""
    predicted, gold = _hashable(predicted), _hashable(gold)
    if len(predicted) != len(gold):
        return False
    if not gold:
        return True
    width = len(gold[0])
    if any(len(r) != width for r in predicted) or any(len(r) != width for r in gold):
        return False
    if _same_rows(predicted, gold, ordered):
        return True
    if width == 1:
        return False
    # Candidate positions for each gold column: predicted columns holding the same multiset of values.
    def signature(rows: Sequence[Row], i: int) -> Counter[Hashable]:
        return Counter(r[i] for r in rows)

    gold_sigs = [signature(gold, i) for i in range(width)]
    pred_sigs = [signature(predicted, j) for j in range(width)]
    candidates = [[j for j in range(width) if pred_sigs[j] == gold_sigs[i]] for i in range(width)]
    if any(not c for c in candidates):
        return False
    tried = 0
    for perm in itertools.product(*candidates):
        if len(set(perm)) != width:
            continue
        tried += 1
        if tried > MAX_PERMUTATIONS:
            return False
        permuted = [tuple(r[j] for j in perm) for r in predicted]
        if _same_rows(permuted, gold, ordered):
            return True
    return False


def gold_is_ordered(gold_sql: str, dialect: str = "sqlite") -> bool:
    """Whether the gold query's outermost result is ordered (a top-level ``ORDER BY``).

    Falls back to the official script's rule (``order by`` anywhere in the text) when
    the query does not parse.
    """
    try:
        tree: Any = sqlglot.parse_one(gold_sql, read=sqlglot_dialect(dialect))
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError):
        return "order by" in " ".join(gold_sql.lower().split())
    if tree is None:
        return False
    while isinstance(tree, exp.Subquery | exp.Paren):
        if tree.args.get("order"):
            return True
        tree = tree.this
    return bool(tree.args.get("order"))
