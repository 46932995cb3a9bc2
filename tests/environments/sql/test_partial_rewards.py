"""Reasoning-SQL partial rewards: the terms, and the property that no wrong query outranks a right one."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steadyhand.core import Task
from steadyhand.environments.sql import ExecutionScorer, PartialRewardConfig
from steadyhand.environments.sql.scoring import combine, ngram_similarity, partial_terms, schema_linking
from steadyhand.environments.sql.scoring.partial import SHAPING_TERMS

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
weight = st.floats(min_value=0.0, max_value=100.0, allow_nan=False)


@st.composite
def configs(draw: st.DrawFn) -> PartialRewardConfig:
    floor = draw(st.floats(min_value=0.01, max_value=1.0))
    ceiling = draw(st.floats(min_value=0.0, max_value=floor, exclude_max=True))
    weights = {name: draw(weight) for name in SHAPING_TERMS}
    return PartialRewardConfig(right_floor=floor, wrong_ceiling=ceiling, **weights)


terms = st.fixed_dictionaries({name: unit for name in SHAPING_TERMS})


@given(config=configs(), right=terms, wrong=terms, with_judge=st.booleans())
@settings(max_examples=500, deadline=None)
def test_no_wrong_query_outranks_a_right_one(config: PartialRewardConfig, right: dict[str, float],
                                            wrong: dict[str, float], with_judge: bool) -> None:
    right_total = combine(right, correct=True, config=config, with_judge=with_judge)
    wrong_total = combine(wrong, correct=False, config=config, with_judge=with_judge)
    assert config.right_floor <= right_total <= 1.0
    assert 0.0 <= wrong_total <= config.wrong_ceiling
    assert wrong_total < right_total


def test_default_bands() -> None:
    config = PartialRewardConfig()
    perfect = dict.fromkeys(SHAPING_TERMS, 1.0)
    assert combine(perfect, correct=True, config=config) == 1.0
    assert combine({}, correct=True, config=config) == 0.5
    assert combine(perfect, correct=False, config=config) == 0.45
    assert combine({}, correct=False, config=config) == 0.0
    with pytest.raises(ValueError, match="wrong_ceiling"):
        PartialRewardConfig(right_floor=0.5, wrong_ceiling=0.5)


def test_terms() -> None:
    gold = "SELECT T1.name FROM singer AS T1 JOIN concert AS T2 ON T1.id = T2.singer_id WHERE T2.year = 2020"
    assert schema_linking(gold, gold) == 1.0
    # tables {singer, concert} + columns {name, id, singer_id, year}; the prediction uses singer + name only.
    assert schema_linking("SELECT name FROM singer", gold) == pytest.approx(2 / 6)
    assert schema_linking("SELECT FROM WHERE", gold) == 0.0
    with_cte = schema_linking("WITH s AS (SELECT name FROM singer) SELECT name FROM s", "SELECT name FROM singer")
    assert with_cte == 1.0  # a CTE name is not a table of the database
    assert ngram_similarity(gold, gold) == 1.0
    assert 0.0 < ngram_similarity("SELECT name FROM singer", gold) < 0.5
    assert ngram_similarity("SELECT 1", "DELETE x") == 0.0
    assert partial_terms(None, gold, correct=False, executed=False) == dict.fromkeys(
        ("execution", "syntax", "schema_linking", "ngram", "format"), 0.0)
    broken = partial_terms("SELEC name FRM singer WHERE (", gold, correct=False, executed=False)
    assert broken["format"] == 0.0 and broken["syntax"] == 0.0


# --- the property on real queries: sql-mini's school database ------------------------------------

SCHOOL_WRONG = [
    "SELECT count(*) FROM teachers",
    "SELECT name FROM departments",
    "SELECT first_name, last_name FROM students WHERE city = 'Riverton'",
    "SELECT title FROM courses WHERE credits = 4",
    "SELECT max(salary) FROM teachers WHERE dept_id = 1",
    "SELECT city, count(*) FROM students GROUP BY city HAVING count(*) > 1000",
    "SELECT first_name, last_name FROM teachers ORDER BY salary ASC LIMIT 3",
    "SELECT nope FROM students",
    "SELEC broken",
    "",
]


@pytest.fixture(scope="module")
def school(sql_mini_tasks: tuple[Task, ...]) -> list[Task]:
    return [t for t in sql_mini_tasks if t.metadata["db_id"] == "school"]


@pytest.fixture(scope="module")
def module_scorer() -> ExecutionScorer:
    with ExecutionScorer(timeout_s=10) as scorer:
        yield scorer  # type: ignore[misc]


def _reward(scorer: ExecutionScorer, task: Task, predicted: str) -> tuple[bool, float]:
    ev = task.evaluator
    verdict = scorer.score(predicted, gold=ev["gold"], database=ev["database"], metric=ev["metric"],
                           test_suite=ev["test_suite"])
    found = partial_terms(predicted, ev["gold"], correct=verdict.correct, executed=verdict.predicted.ok)
    return verdict.correct, combine(found, correct=verdict.correct, config=PartialRewardConfig())


@given(data=st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_real_wrong_queries_never_outrank_right_ones(data: st.DataObject, school: list[Task],
                                                     module_scorer: ExecutionScorer) -> None:
    task = data.draw(st.sampled_from(school))
    others = [t.evaluator["gold"] for t in school if t.id != task.id]
    candidate = data.draw(st.sampled_from(SCHOOL_WRONG + others))
    gold = task.evaluator["gold"]
    right_query = data.draw(st.sampled_from([gold, gold + ";", "  " + gold.replace(" FROM ", "\n  FROM ") + " ;"]))
    right_ok, right_reward = _reward(module_scorer, task, right_query)
    wrong_ok, wrong_reward = _reward(module_scorer, task, candidate)
    assert right_ok
    if not wrong_ok:
        assert wrong_reward < right_reward
