import pytest
from pydantic import TypeAdapter, ValidationError

from steadyhand.core import DatasetError, Observation, Score, StepResult, Task
from steadyhand.core.events import EpisodeFinished, RunEvent


def test_task_is_frozen_data_with_difficulty() -> None:
    task = Task(id="t1", instruction="count", environment="sql", metadata={"difficulty": "hard"})
    assert task.difficulty == "hard"
    assert Task.model_validate_json(task.model_dump_json()) == task
    with pytest.raises(ValidationError):
        Task(id="t", instruction="x", environment="sql", unknown=1)  # type: ignore[call-arg]


def test_score_bounds() -> None:
    assert Score(value=1.0).success
    with pytest.raises(ValidationError):
        Score(value=1.5)


def test_observation_summary_is_json_safe_and_clipped() -> None:
    obs = Observation(text="x" * 5000, screenshot=b"\x89PNG", rows=[[1, b"\x00\x01", None]], columns=["a", "b", "c"],
                      row_count=1)
    summary = obs.summary(max_chars=100)
    assert len(summary["text"]) == 101
    assert summary["screenshot_bytes"] == 4
    assert summary["rows"] == [[1, "<2 bytes>", None]]
    StepResult(observation=obs)


def test_events_round_trip_through_the_union() -> None:
    event = EpisodeFinished(run_id="r", task_id="t", status="done", score=1.0)
    parsed = TypeAdapter(RunEvent).validate_json(event.model_dump_json())
    assert parsed == event


def test_dataset_error_names_file_item_field() -> None:
    err = DatasetError("missing", path="dev.json", item="3", field="query")
    assert str(err) == "file dev.json, item 3, field 'query': missing"
