"""Reasoning-SQL partial rewards, weighted so that no wrong query outranks a right one.

Terms, each in [0, 1]:

* ``execution``: the execution metric says the query is right;
* ``syntax``: the query executes without error;
* ``schema_linking``: Jaccard similarity of the tables and columns the predicted and
  gold queries use (parsed with sqlglot);
* ``ngram``: Jaccard similarity of the queries' token bigrams;
* ``format``: a query was submitted and it parses;
* ``judge``: an optional LLM judge's grade (:class:`SQLJudge`), off by default.

The shaping terms (all but ``execution``) are averaged with their weights into
``shaped``; the total is ``right_floor + (1 - right_floor) * shaped`` for a right
query and ``wrong_ceiling * shaped`` for a wrong one. With ``wrong_ceiling <
right_floor`` (enforced) every right query scores at least ``right_floor`` and
every wrong one at most ``wrong_ceiling``: a wrong query never outranks a right one.
Reasoning-SQL sums weighted terms directly, which lets a near-miss outrank a
correct query; the floor and ceiling keep the ranking honest whatever the weights.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import sqlglot
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from steadyhand.environments.sql.results import sqlglot_dialect

#: The shaping terms, in the order reports show them.
SHAPING_TERMS = ("syntax", "schema_linking", "ngram", "format", "judge")

_FALLBACK_TOKEN = re.compile(r"\w+|'[^']*'|\"[^\"]*\"|[^\w\s]")


@runtime_checkable
class SQLJudge(Protocol):
    """Grades a predicted query against the gold one, in [0, 1] (an LLM judge, typically).

    Called only for submitted queries. An exception or a value outside [0, 1] is not
    fatal: the term is clipped, or scored 0 with the error in the score's details.
    """

    def __call__(self, *, question: str, schema: str, gold: str, predicted: str) -> float: ...


class PartialRewardConfig(BaseModel):
    """Weights of the shaping terms and the bands right and wrong queries score in.

    Attributes:
        syntax, schema_linking, ngram, format, judge: weights (>= 0) of the shaping
            terms; ``judge`` counts only when the environment has a judge.
        right_floor: the lowest total a right query can get.
        wrong_ceiling: the highest total a wrong query can get; below ``right_floor``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    syntax: float = Field(1.0, ge=0)
    schema_linking: float = Field(1.0, ge=0)
    ngram: float = Field(1.0, ge=0)
    format: float = Field(1.0, ge=0)
    judge: float = Field(2.0, ge=0)
    right_floor: float = Field(0.5, ge=0, le=1)
    wrong_ceiling: float = Field(0.45, ge=0, le=1)

    @model_validator(mode="after")
    def _bands_do_not_overlap(self) -> PartialRewardConfig:
        if self.wrong_ceiling >= self.right_floor:
            raise ValueError(f"wrong_ceiling ({self.wrong_ceiling}) must be below right_floor ({self.right_floor}) "
                             "or a wrong query could outrank a right one")
        return self

    def weights(self, *, with_judge: bool) -> dict[str, float]:
        """The shaping terms' weights (``judge`` only ``with_judge``)."""
        names = SHAPING_TERMS if with_judge else tuple(t for t in SHAPING_TERMS if t != "judge")
        return {name: float(getattr(self, name)) for name in names}


def combine(terms: Mapping[str, float], *, correct: bool, config: PartialRewardConfig,
            with_judge: bool = False) -> float:
    """The total partial reward of ``terms`` (missing shaping terms count 0).

    A right query lands in ``[right_floor, 1]``, a wrong one in ``[0, wrong_ceiling]``.
    """
    weights = config.weights(with_judge=with_judge)
    total_weight = sum(weights.values())
    shaped = 0.0
    if total_weight > 0:
        shaped = sum(w * min(1.0, max(0.0, float(terms.get(name, 0.0)))) for name, w in weights.items()) / total_weight
    if correct:
        return config.right_floor + (1.0 - config.right_floor) * shaped
    return config.wrong_ceiling * shaped


# --- term functions -----------------------------------------------------------------------


def parse(sql: str, dialect: str = "sqlite") -> Any:
    """``sql`` parsed by sqlglot (its expression tree), or None when it does not parse (or is empty)."""
    if not sql.strip():
        return None
    try:
        tree: Any = sqlglot.parse_one(sql, read=sqlglot_dialect(dialect))
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError):
        return None
    return tree


def schema_items(tree: Any) -> set[str]:
    """The tables (``table:<name>``) and columns (``column:<name>``) a parsed query uses, lowercased.

    Names bound by ``WITH`` are not tables of the database and are left out.
    """
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    items = {f"table:{t.name.lower()}" for t in tree.find_all(exp.Table) if t.name and t.name.lower() not in ctes}
    items |= {f"column:{c.name.lower()}" for c in tree.find_all(exp.Column) if c.name}
    return items


def jaccard(a: set[Any], b: set[Any]) -> float:
    """|a ∩ b| / |a ∪ b|; 1.0 for two empty sets."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def tokens(sql: str, dialect: str = "sqlite") -> list[str]:
    """``sql`` as lowercased tokens (sqlglot's tokenizer; a regex when that fails)."""
    try:
        return [t.text.lower() for t in Dialect.get_or_raise(sqlglot_dialect(dialect)).tokenize(sql)]
    except Exception:  # sqlglot raises several error types while tokenizing odd input
        return [t.lower() for t in _FALLBACK_TOKEN.findall(sql)]


def ngram_similarity(predicted: str, gold: str, *, n: int = 2, dialect: str = "sqlite") -> float:
    """Jaccard similarity of the two queries' token n-grams (unigrams for queries shorter than n)."""
    a, b = tokens(predicted, dialect), tokens(gold, dialect)
    size = n if len(a) >= n and len(b) >= n else 1
    grams_a = {tuple(a[i: i + size]) for i in range(len(a) - size + 1)}
    grams_b = {tuple(b[i: i + size]) for i in range(len(b) - size + 1)}
    return jaccard(grams_a, grams_b)


def schema_linking(predicted: str, gold: str, *, dialect: str = "sqlite") -> float:
    """Jaccard similarity of the schema items of the two queries; 0 when the prediction does not parse."""
    pred_tree, gold_tree = parse(predicted, dialect), parse(gold, dialect)
    if pred_tree is None or gold_tree is None:
        return 0.0
    return jaccard(schema_items(pred_tree), schema_items(gold_tree))


def partial_terms(predicted: str | None, gold: str, *, correct: bool, executed: bool,
                  dialect: str = "sqlite") -> dict[str, float]:
    """Every term but ``judge`` for one prediction (all 0 when nothing was submitted)."""
    if predicted is None:
        return {"execution": 0.0, "syntax": 0.0, "schema_linking": 0.0, "ngram": 0.0, "format": 0.0}
    return {
        "execution": float(correct),
        "syntax": float(executed),
        "schema_linking": schema_linking(predicted, gold, dialect=dialect),
        "ngram": ngram_similarity(predicted, gold, dialect=dialect),
        "format": float(parse(predicted, dialect) is not None),
    }


def judge_term(judge: SQLJudge, *, question: str, schema: str, gold: str, predicted: str) -> tuple[float, str | None]:
    """The judge's grade clipped to [0, 1], and the error text when the judge failed (grade 0)."""
    try:
        value = float(judge(question=question, schema=schema, gold=gold, predicted=predicted))
    except Exception as exc:  # a judge is a plug-in (often a model call): its failure costs the term only
        return 0.0, f"{type(exc).__name__}: {exc}"
    if value != value:  # NaN
        return 0.0, "judge returned NaN"
    return min(1.0, max(0.0, value)), None
