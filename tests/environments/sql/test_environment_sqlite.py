"""SQLEnvironment on real SQLite files: isolation, time limits, truncation, observations, scoring."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from steadyhand.core import Done, Environment, ExecuteSQL, Fail, SubmitSQL, Task, environments
from steadyhand.core.errors import ConfigurationError, DatasetError, EnvironmentFault
from steadyhand.environments.sql import SQLEnvironment

FOREVER = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


def test_registered_and_implements_the_protocol() -> None:
    assert environments.get("sql") is SQLEnvironment
    assert isinstance(SQLEnvironment(), Environment)


def test_reset_shows_question_evidence_and_schema(env: SQLEnvironment, singer_task: Task) -> None:
    obs = env.reset(singer_task)
    assert obs.text == "Which singers are from France?\nEvidence: France is a country"
    assert obs.info["db_id"] == "singers"
    assert obs.info["dialect"] == "sqlite"
    schema = obs.info["schema"]
    assert "CREATE TABLE singer" in schema
    assert "Ana | France | 30" in schema  # sample rows
    assert env.schema_text() == schema


def test_destructive_queries_leave_the_source_byte_identical(
        env: SQLEnvironment, sql_mini_tasks: tuple[Task, ...], checksum: Callable[[Path], str]) -> None:
    task = sql_mini_tasks[0]
    source = Path(task.evaluator["database"])
    before = checksum(source)
    env.reset(task)
    for query in ("DELETE FROM enrollments", "UPDATE students SET city = 'Nowhere'", "DROP TABLE courses",
                  "CREATE TABLE junk (x)", "INSERT INTO junk VALUES (1)", "VACUUM"):
        result = env.step(ExecuteSQL(query=query))
        assert result.observation.error is None, (query, result.observation.error)
    assert env.step(ExecuteSQL(query="SELECT count(*) FROM enrollments")).observation.rows == [[0]]
    assert env.step(ExecuteSQL(query="SELECT count(*) FROM courses")).observation.error == "no such table: courses"
    # The agent's damage is invisible to scoring, which reads the original.
    env.step(SubmitSQL(query=task.evaluator["gold"]))
    assert env.evaluate().value == 1.0
    env.close()
    assert checksum(source) == before


def test_attach_cannot_reach_the_original_file(env: SQLEnvironment, singer_task: Task,
                                               checksum: Callable[[Path], str]) -> None:
    source = Path(singer_task.evaluator["database"])
    before = checksum(source)
    env.reset(singer_task)
    obs = env.step(ExecuteSQL(query=f"ATTACH DATABASE '{source}' AS original")).observation
    assert obs.error is not None and "not authorized" in obs.error
    assert env.step(ExecuteSQL(query="DELETE FROM original.singer")).observation.error is not None
    env.close()
    assert checksum(source) == before


def test_close_and_reset_remove_the_private_copy(env: SQLEnvironment, singer_task: Task) -> None:
    env.reset(singer_task)
    first = env._db.path  # type: ignore[union-attr]
    assert first.exists() and first != Path(singer_task.evaluator["database"])
    env.reset(singer_task)
    second = env._db.path  # type: ignore[union-attr]
    assert not first.parent.exists()
    env.close()
    assert not second.parent.exists()
    env.close()  # idempotent


def test_timeout_really_interrupts_and_the_next_query_works(singer_task: Task) -> None:
    env = SQLEnvironment(timeout_s=0.5)
    env.reset(singer_task)
    result = env.step(ExecuteSQL(query=FOREVER))
    assert result.observation.error == "query timed out after 0.5 s"
    assert result.info["timed_out"] is True
    after = env.step(ExecuteSQL(query="SELECT count(*) FROM singer"))
    assert after.observation.error is None and after.observation.rows == [[4]]
    env.close()


def test_endless_row_stream_is_interrupted_too(singer_task: Task) -> None:
    env = SQLEnvironment(timeout_s=0.5, row_limit=3)
    env.reset(singer_task)
    obs = env.step(ExecuteSQL(query="WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                                    "SELECT x FROM c")).observation
    assert obs.error == "query timed out after 0.5 s"
    env.close()


def test_rows_are_truncated_to_the_row_limit_with_the_full_count(env: SQLEnvironment, singer_task: Task) -> None:
    env.reset(singer_task)
    obs = env.step(ExecuteSQL(query="WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 12) "
                                    "SELECT x, x * x AS sq FROM c")).observation
    assert obs.columns == ["x", "sq"]
    assert obs.rows == [[1, 1], [2, 4], [3, 9], [4, 16], [5, 25]]
    assert obs.row_count == 12 and obs.truncated
    exact = env.step(ExecuteSQL(query="SELECT name FROM singer")).observation
    assert exact.row_count == 4 and not exact.truncated and len(exact.rows or []) == 4


def test_rows_are_json_safe(env: SQLEnvironment, singer_task: Task) -> None:
    env.reset(singer_task)
    obs = env.step(ExecuteSQL(query="SELECT photo, zeroblob(100), 1e999, -1e999, NULL FROM singer "
                                    "WHERE singer_id = 1")).observation
    assert obs.rows is not None
    json.dumps(obs.rows, allow_nan=False)
    photo, big, inf, ninf, null = obs.rows[0]
    assert photo == "0x89504e47"
    assert big.endswith("(100 bytes)") and big.startswith("0x00")
    assert (inf, ninf, null) == ("inf", "-inf", None)


def test_bad_sql_and_other_actions_are_observation_errors(env: SQLEnvironment, singer_task: Task) -> None:
    env.reset(singer_task)
    assert "syntax error" in (env.step(ExecuteSQL(query="SELEC name FROM singer")).observation.error or "")
    assert "no such table" in (env.step(ExecuteSQL(query="SELECT * FROM nope")).observation.error or "")
    assert "one statement" in (env.step(ExecuteSQL(query="SELECT 1; SELECT 2")).observation.error or "")
    assert "empty query" in (env.step(ExecuteSQL(query="   ")).observation.error or "")
    for action in (Done(), Fail(reason="x")):
        result = env.step(action)
        assert result.observation.error is not None and "not available" in result.observation.error
        assert not result.terminated


def test_statements_without_rows_report_what_they_did(env: SQLEnvironment, singer_task: Task) -> None:
    env.reset(singer_task)
    obs = env.step(ExecuteSQL(query="UPDATE singer SET age = age + 1 WHERE country = 'France'")).observation
    assert obs.error is None and obs.columns == [] and obs.rows == []
    assert obs.text == "statement executed: 2 row(s) affected"


def test_submit_executes_terminates_and_ends_the_episode(env: SQLEnvironment, singer_task: Task) -> None:
    env.reset(singer_task)
    result = env.step(SubmitSQL(query="SELECT name FROM singer WHERE country = 'France'"))
    assert result.terminated and not result.truncated
    assert result.observation.rows == [["Ana"], ["Chloe"]]
    again = env.step(ExecuteSQL(query="SELECT 1"))
    assert again.terminated and again.observation.error is not None and "over" in again.observation.error


def test_evaluate_without_submission_scores_zero(env: SQLEnvironment, singer_task: Task) -> None:
    env.reset(singer_task)
    env.step(ExecuteSQL(query=singer_task.evaluator["gold"]))  # executing the answer is not submitting it
    score = env.evaluate()
    assert score.value == 0.0
    assert score.components["partial_reward"] == 0.0 and score.components["execution"] == 0.0
    assert score.details["reason"] == "no query was submitted"
    assert score.details["submitted"] is False and score.details["predicted"] is None


def test_evaluate_right_and_wrong_submissions(env: SQLEnvironment, singer_task: Task) -> None:
    env.reset(singer_task)
    env.step(SubmitSQL(query="SELECT s.name FROM singer AS s WHERE s.country = 'France' ORDER BY s.age"))
    right = env.evaluate()
    assert right.value == 1.0 and right.success
    assert set(right.components) == {"execution", "syntax", "schema_linking", "ngram", "format", "partial_reward"}
    json.dumps(right.details)
    assert right.details["difficulty"] == "easy" and right.details["db_id"] == "singers"
    assert right.details["metric"] == "spider"

    env.reset(singer_task)
    env.step(SubmitSQL(query="SELECT name FROM singer"))
    wrong = env.evaluate()
    assert wrong.value == 0.0
    assert wrong.components["syntax"] == 1.0 and wrong.components["execution"] == 0.0
    assert wrong.components["partial_reward"] < right.components["partial_reward"]

    env.reset(singer_task)
    env.step(SubmitSQL(query="SELECT nme FROM singer"))
    broken = env.evaluate()
    assert broken.value == 0.0 and broken.components["syntax"] == 0.0
    assert "no such column" in broken.details["predicted_error"]


def test_a_failing_gold_query_is_a_scoring_error(env: SQLEnvironment, singer_task: Task) -> None:
    task = singer_task.model_copy(update={"evaluator": {**singer_task.evaluator, "gold": "SELECT nope FROM singer"}})
    env.reset(task)
    env.step(SubmitSQL(query="SELECT 1"))
    score = env.evaluate()
    assert score.value == 0.0 and score.error is not None and "gold query failed" in score.error


def test_judge_term_is_pluggable(singer_task: Task) -> None:
    calls: list[dict[str, str]] = []

    def judge(*, question: str, schema: str, gold: str, predicted: str) -> float:
        calls.append({"question": question, "predicted": predicted})
        return 1.7  # clipped to 1

    env = SQLEnvironment(judge=judge)
    env.reset(singer_task)
    env.step(SubmitSQL(query="SELECT name FROM singer"))
    score = env.evaluate()
    assert calls == [{"question": singer_task.instruction, "predicted": "SELECT name FROM singer"}]
    assert score.components["judge"] == 1.0
    assert score.components["partial_reward"] <= env.partial_rewards.wrong_ceiling

    def broken_judge(*, question: str, schema: str, gold: str, predicted: str) -> float:
        raise TimeoutError("model server down")

    env.judge = broken_judge
    env.reset(singer_task)
    env.step(SubmitSQL(query="SELECT name FROM singer"))
    score = env.evaluate()
    assert score.components["judge"] == 0.0 and "model server down" in score.details["judge_error"]
    env.close()


def test_misuse_and_bad_configuration_raise(singer_task: Task) -> None:
    env = SQLEnvironment()
    with pytest.raises(EnvironmentFault, match="before reset"):
        env.step(ExecuteSQL(query="SELECT 1"))
    with pytest.raises(ConfigurationError):
        SQLEnvironment(row_limit=0)
    with pytest.raises(ValueError, match="wrong_ceiling"):
        SQLEnvironment(partial_rewards={"right_floor": 0.4, "wrong_ceiling": 0.4})
    missing = singer_task.model_copy(update={"evaluator": {"gold": "SELECT 1"}})
    with pytest.raises(DatasetError, match=r"evaluator\.database"):
        env.reset(missing)
    gone = singer_task.model_copy(update={"evaluator": {**singer_task.evaluator, "database": "/nonexistent.sqlite"}})
    with pytest.raises(DatasetError, match="not found"):
        env.reset(gone)
    with pytest.raises(ConfigurationError, match="unsupported database"):
        env.reset(singer_task.model_copy(update={"evaluator": {**singer_task.evaluator,
                                                               "database": "mysql://u@h/db"}}))
