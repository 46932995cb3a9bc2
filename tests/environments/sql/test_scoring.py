"""Execution scorers: BIRD set semantics, Spider multiset/order semantics, test-suite over variant databases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from steadyhand.core import Score
from steadyhand.core.errors import ConfigurationError
from steadyhand.environments.sql import ExecutionScorer, summarize
from steadyhand.environments.sql.hardness import spider_hardness
from steadyhand.environments.sql.scoring import bird_match, gold_is_ordered, spider_match

PETS = """
CREATE TABLE pet (id INTEGER PRIMARY KEY, name TEXT, kind TEXT, age INTEGER);
INSERT INTO pet VALUES (1, 'Rex', 'dog', 3), (2, 'Tom', 'cat', 5), (3, 'Kit', 'cat', 1), (4, 'Bo', 'dog', 3);
"""
# Same schema, other content: 'Rex' is the only dog here.
PETS_VARIANT = """
CREATE TABLE pet (id INTEGER PRIMARY KEY, name TEXT, kind TEXT, age INTEGER);
INSERT INTO pet VALUES (1, 'Rex', 'dog', 3), (2, 'Tom', 'cat', 5), (3, 'Kit', 'cat', 1), (4, 'Bo', 'bird', 3);
"""


@pytest.fixture
def pets(tmp_path: Path, db_factory: Callable[[Path, str], Path]) -> tuple[str, str]:
    main = db_factory(tmp_path / "pets" / "pets.sqlite", PETS)
    variant = db_factory(tmp_path / "pets" / "pets_v.sqlite", PETS_VARIANT)
    return str(main), str(variant)


@pytest.fixture
def scorer() -> ExecutionScorer:
    with ExecutionScorer(timeout_s=5) as s:
        yield s  # type: ignore[misc]


def test_comparison_semantics() -> None:
    a = [(1, "x"), (1, "x"), (2, "y")]
    # BIRD: sets, so duplicates and order do not matter.
    assert bird_match([(2, "y"), (1, "x")], a)
    assert not bird_match([(1, "x")], a)
    # Spider: multisets; duplicates matter, order only when asked.
    assert not spider_match([(2, "y"), (1, "x")], a, ordered=False)
    assert spider_match([(2, "y"), (1, "x"), (1, "x")], a, ordered=False)
    assert not spider_match([(2, "y"), (1, "x"), (1, "x")], a, ordered=True)
    assert spider_match([(1, "x"), (1, "x"), (2, "y")], a, ordered=True)
    # Columns may come in another order, as in the official test-suite script.
    assert spider_match([("x", 1), ("x", 1), ("y", 2)], a, ordered=True)
    assert not spider_match([("x", 1), ("y", 1), ("x", 2)], a, ordered=False)
    assert not spider_match([(1,), (1,), (2,)], a, ordered=False)  # column count differs
    assert spider_match([], [], ordered=True)
    # Unhashable driver values (PostgreSQL arrays) are compared too.
    assert bird_match([([1, 2],)], [((1, 2),)])


def test_gold_order_detection() -> None:
    assert gold_is_ordered("SELECT name FROM pet ORDER BY age")
    assert not gold_is_ordered("SELECT name FROM (SELECT * FROM pet ORDER BY age LIMIT 2)")
    assert gold_is_ordered("SELECT name FROM pet UNION SELECT kind FROM pet ORDER BY 1")
    assert not gold_is_ordered("SELECT count(*) FROM pet")


def test_bird_and_spider_metrics_differ_on_duplicates_and_order(scorer: ExecutionScorer,
                                                                pets: tuple[str, str]) -> None:
    main, _ = pets
    gold = "SELECT kind FROM pet"
    distinct = "SELECT DISTINCT kind FROM pet"
    assert scorer.score(distinct, gold=gold, database=main, metric="bird").correct
    assert not scorer.score(distinct, gold=gold, database=main, metric="spider").correct
    ordered_gold = "SELECT name FROM pet ORDER BY name"
    reversed_pred = "SELECT name FROM pet ORDER BY name DESC"
    assert scorer.score(reversed_pred, gold=ordered_gold, database=main, metric="bird").correct
    verdict = scorer.score(reversed_pred, gold=ordered_gold, database=main, metric="spider")
    assert not verdict.correct and verdict.ordered
    assert scorer.score(reversed_pred, gold="SELECT name FROM pet", database=main, metric="spider").correct


def test_test_suite_catches_a_query_right_by_accident(scorer: ExecutionScorer, pets: tuple[str, str]) -> None:
    main, variant = pets
    gold = "SELECT name FROM pet WHERE kind = 'dog'"
    accidental = "SELECT name FROM pet WHERE age = 3"  # the dogs are exactly the 3-year-olds on main only
    on_main = scorer.score(accidental, gold=gold, database=main, metric="spider", test_suite=[main])
    assert on_main.correct
    suite = scorer.score(accidental, gold=gold, database=main, metric="spider", test_suite=[main, variant])
    assert not suite.correct
    assert suite.databases == {main: True, variant: False}
    right = scorer.score("SELECT p.name FROM pet p WHERE p.kind = 'dog'", gold=gold, database=main,
                         metric="spider", test_suite=[main, variant])
    assert right.correct and right.databases == {main: True, variant: True}
    # BIRD scores only the main database.
    assert scorer.score(accidental, gold=gold, database=main, metric="bird", test_suite=[main, variant]).correct


def test_test_suite_on_sql_mini_variants(scorer: ExecutionScorer, sql_mini_tasks: tuple) -> None:  # type: ignore[type-arg]
    task = sql_mini_tasks[0]  # How many students are there?
    ev = task.evaluator
    assert len(ev["test_suite"]) >= 2
    count = scorer.run(ev["database"], ev["gold"]).rows[0][0]
    literal = f"SELECT {count}"
    assert scorer.score(literal, gold=ev["gold"], database=ev["database"], metric="bird").correct
    verdict = scorer.score(literal, gold=ev["gold"], database=ev["database"], metric="spider",
                           test_suite=ev["test_suite"])
    assert not verdict.correct


def test_errors_and_timeouts_score_zero(tmp_path: Path, db_factory: Callable[[Path, str], Path],
                                        pets: tuple[str, str]) -> None:
    main, _ = pets
    with ExecutionScorer(timeout_s=0.3) as scorer:
        verdict = scorer.score("SELECT nope FROM pet", gold="SELECT name FROM pet", database=main)
        assert not verdict.correct and verdict.error is None and "no such column" in (verdict.predicted.error or "")
        forever = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
        timed = scorer.score(forever, gold="SELECT name FROM pet", database=main, metric="bird")
        assert not timed.correct and timed.predicted.timed_out
        assert timed.predicted.error == "query timed out after 0.3 s"
        gold_broken = scorer.score("SELECT 1", gold="SELECT nope FROM pet", database=main)
        assert not gold_broken.correct and "gold query failed" in (gold_broken.error or "")
        # Scoring connections are read-only: a "prediction" that writes fails and changes nothing.
        write = scorer.score("DELETE FROM pet", gold="SELECT name FROM pet", database=main)
        assert not write.correct and "readonly" in (write.predicted.error or "")
        assert scorer.run(main, "SELECT count(*) FROM pet").rows == [(4,)]
        with pytest.raises(ConfigurationError, match="unknown SQL metric"):
            scorer.score("SELECT 1", gold="SELECT 1", database=main, metric="exact")


def test_gold_results_are_cached_and_connections_reused(scorer: ExecutionScorer, pets: tuple[str, str]) -> None:
    main, _ = pets
    for _ in range(3):
        scorer.score("SELECT name FROM pet", gold="SELECT name FROM pet ORDER BY id", database=main)
    assert scorer.gold_cache_hits == 2
    assert list(scorer.pool._conns) == [main]


def test_summarize_by_difficulty() -> None:
    summary = summarize([
        ("hard", Score(value=0.0, components={"partial_reward": 0.2})),
        ("easy", Score(value=1.0, components={"partial_reward": 0.9})),
        ("easy", Score(value=0.0, components={"partial_reward": 0.3})),
        ("medium", 1.0),
    ])
    assert list(summary["by_difficulty"]) == ["easy", "medium", "hard"]
    easy = summary["by_difficulty"]["easy"]
    assert easy["count"] == 2 and easy["score"] == 0.5
    assert easy["components"]["partial_reward"] == pytest.approx(0.6)
    assert summary["overall"]["count"] == 4 and summary["overall"]["score"] == 0.5
    assert summary["overall"]["components"]["partial_reward"] == pytest.approx(1.4 / 4)
    assert summarize([]) == {"overall": {"count": 0, "score": 0.0, "components": {}}, "by_difficulty": {}}


@pytest.mark.parametrize(("sql", "level"), [
    ("SELECT count(*) FROM singer", "easy"),
    ("SELECT name, country, age FROM singer ORDER BY age DESC", "medium"),
    ("SELECT avg(age), min(age), max(age) FROM singer WHERE country = 'France'", "medium"),
    ("SELECT T2.name, count(*) FROM concert AS T1 JOIN stadium AS T2 ON T1.stadium_id = T2.stadium_id "
     "GROUP BY T1.stadium_id", "medium"),
    ("SELECT name FROM stadium WHERE stadium_id NOT IN (SELECT stadium_id FROM concert)", "hard"),
    ("SELECT country FROM singer WHERE age > 40 INTERSECT SELECT country FROM singer WHERE age < 30", "hard"),
    ("SELECT count(*) FROM singer WHERE age > (SELECT avg(age) FROM singer)", "hard"),
    ("SELECT T2.name, T2.capacity FROM concert AS T1 JOIN stadium AS T2 ON T1.stadium_id = T2.stadium_id "
     "WHERE T1.year >= 2014 GROUP BY T2.stadium_id ORDER BY count(*) DESC LIMIT 1", "extra"),
    ("SELEC nonsense", "unknown"),
])
def test_spider_hardness_matches_official_labels(sql: str, level: str) -> None:
    assert spider_hardness(sql) == level
