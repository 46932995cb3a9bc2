"""Spider's hardness levels (easy / medium / hard / extra), computed from the SQL with sqlglot.

Spider's evaluation script counts components of its own parse of the query:

* component 1: ``WHERE``, ``GROUP BY``, ``ORDER BY``, ``LIMIT``, each join (tables in
  ``FROM`` beyond the first), each ``OR`` and each ``LIKE`` in the conditions;
* component 2: nested queries (subqueries in conditions, ``UNION`` /
  ``INTERSECT`` / ``EXCEPT``);
* others: more than one aggregate (in SELECT and ORDER BY, as the script's
  counting works out), more than one selected column, more than one
  ``WHERE`` condition, more than one ``GROUP BY`` column;

and maps the counts to a level with fixed rules (:func:`level`). This module
counts the same things on sqlglot's tree of the top-level query, which agrees
with the official labels on ordinary Spider queries; it is an approximation for
exotic SQL. A query that does not parse is ``unknown``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp

from steadyhand.environments.sql.results import sqlglot_dialect

LEVELS = ("easy", "medium", "hard", "extra")


@dataclass(frozen=True)
class Counts:
    """Spider's three component counts of one query."""

    component1: int
    component2: int
    others: int


def level(counts: Counts) -> str:
    """Spider's hardness rule on component counts."""
    c1, c2, others = counts.component1, counts.component2, counts.others
    if c1 <= 1 and others == 0 and c2 == 0:
        return "easy"
    if (others <= 2 and c1 <= 1 and c2 == 0) or (c1 <= 2 and others < 2 and c2 == 0):
        return "medium"
    if ((others > 2 and c1 <= 2 and c2 == 0) or (2 < c1 <= 3 and others <= 2 and c2 == 0)
            or (c1 <= 1 and others == 0 and c2 <= 1)):
        return "hard"
    return "extra"


def _conditions(node: Any) -> tuple[list[Any], int]:
    """The atomic conditions of a boolean expression and how many ORs join them."""
    if node is None:
        return [], 0
    if isinstance(node, exp.Paren):
        return _conditions(node.this)
    if isinstance(node, exp.And | exp.Or):
        left, left_ors = _conditions(node.left)
        right, right_ors = _conditions(node.right)
        return left + right, left_ors + right_ors + isinstance(node, exp.Or)
    return [node], 0


def _has_aggregate(node: Any, outer: exp.Select) -> bool:
    """An aggregate of ``outer`` itself in ``node`` (aggregates of subqueries do not count)."""
    return any(agg.parent_select is outer for agg in node.find_all(exp.AggFunc))


def _is_like(node: Any) -> bool:
    target = node.this if isinstance(node, exp.Not) else node
    return isinstance(target, exp.Like | exp.ILike)


def _nested(node: Any, outer: exp.Select) -> int:
    """Subqueries directly inside one condition of ``outer`` (``x IN (SELECT ...)``, ``x > (SELECT ...)``)."""
    return sum(1 for s in node.find_all(exp.Select) if s.parent_select is outer)


def _main_select(tree: Any) -> tuple[exp.Select | None, int]:
    """The first SELECT of a set operation (Spider's main query) and the set operations above it."""
    set_ops = 0
    node: Any = tree
    while True:
        if isinstance(node, exp.Subquery | exp.Paren):
            node = node.this
        elif isinstance(node, exp.Union | exp.Intersect | exp.Except):
            set_ops += 1
            node = node.left
        else:
            break
    return (node if isinstance(node, exp.Select) else None), set_ops


def count_components(sql: str, dialect: str = "sqlite") -> Counts | None:
    """Spider's component counts of ``sql``, or None when it does not parse as a SELECT."""
    try:
        tree: Any = sqlglot.parse_one(sql, read=sqlglot_dialect(dialect))
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError):
        return None
    if tree is None:
        return None
    select, set_ops = _main_select(tree)
    if select is None:
        return None
    where_node = select.args.get("where")
    having_node = select.args.get("having")
    where, where_ors = _conditions(where_node.this if where_node else None)
    having, having_ors = _conditions(having_node.this if having_node else None)
    joins = select.args.get("joins") or []
    join_conds: list[Any] = []
    join_ors = 0
    for join in joins:
        conds, ors = _conditions(join.args.get("on"))
        join_conds += conds
        join_ors += ors
    group = select.args.get("group")
    group_items = list(group.expressions) if group else []
    order = select.args.get("order")
    order_items = list(order.expressions) if order else []

    c1 = sum(1 for part in (where_node, group, order, select.args.get("limit")) if part)
    from_ = select.args.get("from_") or select.args.get("from")
    tables = (1 if from_ is not None else 0) + len(joins)
    c1 += max(0, tables - 1)
    c1 += where_ors + having_ors + join_ors
    c1 += sum(1 for cond in where + having + join_conds if _is_like(cond))

    c2 = set_ops + sum(_nested(cond, select) for cond in where + having + join_conds)

    # Spider's script effectively counts aggregates in SELECT and ORDER BY only.
    aggregates = sum(1 for item in select.expressions + order_items if _has_aggregate(item, select))
    others = int(aggregates > 1) + int(len(select.expressions) > 1) + int(len(where) > 1)
    others += int(len(group_items) > 1)
    return Counts(c1, c2, others)


def spider_hardness(sql: str, dialect: str = "sqlite") -> str:
    """``easy``, ``medium``, ``hard`` or ``extra`` as Spider's rules rate ``sql``; ``unknown`` if it does not parse."""
    counts = count_components(sql, dialect)
    return "unknown" if counts is None else level(counts)
