"""The SQL agent with scripted models against a real SQLite database.

Scripted models (``steadyhand.models.scripted``) make every episode exact; the
environment and database are real.
"""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from steadyhand.agents import AgentOutcome
from steadyhand.agents.sql import SQLAgent
from steadyhand.agents.sql.graph import Settings, observe, prompt_window, route_reply
from steadyhand.agents.sql.prompts import render
from steadyhand.core import Observation, Score, StepResult, Task, agents
from steadyhand.core.actions import ActionBase
from steadyhand.core.errors import ConfigurationError
from steadyhand.environments.sql import SQLEnvironment

GOLD = "SELECT count(*) FROM singer WHERE country = 'France'"
FENCED_GOLD = f"```sql\n{GOLD}\n```"


def test_registered_as_sql() -> None:
    assert agents.get("sql") is SQLAgent
    assert SQLAgent.name == "sql"


def test_bad_options_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="max_steps"):
        SQLAgent(max_steps=0)
    with pytest.raises(ConfigurationError, match="schema_style"):
        SQLAgent(schema_style="xml")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="max_new_tokens"):
        SQLAgent(max_new_tokens=0)


def test_solves_a_task_and_records_every_step(music_task: Task, run_episode: Any, write_script: Any) -> None:
    spec = write_script({"rules": [
        {"when": r"\AQuery result:", "reply": "SUBMIT"},
        {"when": "Question: How many singers are from France", "reply": f"Let me count.\n{FENCED_GOLD}"},
    ]})
    ep = run_episode(music_task, spec)
    assert ep.outcome == AgentOutcome(status="terminated", steps=2, final_answer=GOLD)
    assert ep.score.value == 1.0
    assert [s.action for s in ep.steps] == [
        {"kind": "sql.execute", "query": GOLD}, {"kind": "sql.submit", "query": GOLD}]
    assert [s.index for s in ep.steps] == [0, 1]
    execute, submit = ep.steps
    assert "Let me count." in execute.rationale
    assert execute.observation["rows"] == [[2]]
    assert execute.input_tokens > 0 and execute.output_tokens > 0
    assert submit.rationale == "SUBMIT" and submit.output_tokens == 1
    assert ep.model_calls == 2


def test_broken_sql_is_shown_to_the_model_and_its_revision_used(
        music_task: Task, run_episode: Any, write_script: Any) -> None:
    spec = write_script({"rules": [
        {"when": r"\AQuery result:", "reply": "SUBMIT"},
        # Only an error message naming the bad column gets the fix: the model must see it.
        {"when": r"\AQuery error: .*no such column: nation", "reply": FENCED_GOLD},
        {"when": "Question:", "reply": "```sql\nSELECT count(*) FROM singer WHERE nation = 'France'\n```"},
    ]})
    ep = run_episode(music_task, spec)
    assert ep.queries == ["SELECT count(*) FROM singer WHERE nation = 'France'", GOLD]
    assert "no such column" in ep.steps[0].observation["error"]
    assert ep.outcome.status == "terminated" and ep.outcome.final_answer == GOLD
    assert ep.score.value == 1.0


def test_a_model_that_never_writes_sql_ends_cleanly(music_task: Task, run_episode: Any, write_script: Any) -> None:
    ep = run_episode(music_task, write_script({"default": "I am not sure what you mean."}),
                     max_format_retries=2)
    assert ep.outcome.status == "error"
    assert "no SQL query" in (ep.outcome.error or "")
    assert ep.steps == []
    assert ep.model_calls == 3  # the first reply and two format retries
    assert ep.score.value == 0.0


def test_format_retry_shows_the_expected_format(music_task: Task, run_episode: Any, write_script: Any) -> None:
    spec = write_script({"rules": [
        {"when": r"\AQuery result:", "reply": "SUBMIT"},
        {"when": r"\AFormat error: .*```sql block", "reply": FENCED_GOLD},
        {"when": "Question:", "reply": "SUBMIT"},  # nothing has run yet: not a valid SUBMIT
    ]})
    ep = run_episode(music_task, spec)
    assert ep.queries == [GOLD]
    assert ep.outcome.status == "terminated" and ep.score.value == 1.0


def test_format_retries_spent_submit_the_best_query(music_task: Task, run_episode: Any,
                                                    write_script: Any) -> None:
    spec = write_script({"rules": [
        {"when": "Question:", "reply": FENCED_GOLD},
    ], "default": "hmm"})
    ep = run_episode(music_task, spec, max_format_retries=1)
    assert ep.queries == [GOLD]
    assert ep.steps[-1].action == {"kind": "sql.submit", "query": GOLD}
    assert "format retries" in ep.steps[-1].rationale
    assert ep.outcome.status == "truncated" and ep.score.value == 1.0
    assert ep.model_calls == 3  # draft, then two replies without SQL (one retry allowed)


def test_step_budget_is_respected_and_the_last_good_query_submitted(
        music_task: Task, run_episode: Any, write_script: Any) -> None:
    replies = [
        FENCED_GOLD,
        "```sql\nSELECT * FROM missing_table\n```",
        "```sql\nSELECT 1 FROM nowhere\n```",
        "```sql\nSELECT 2 FROM nowhere\n```",
        "```sql\nSELECT 3 FROM nowhere\n```",
    ]
    ep = run_episode(music_task, write_script(replies), max_steps=3)
    assert len(ep.queries) == 3  # the budget: three executions, no more model calls
    assert ep.model_calls == 3
    assert ep.steps[-1].action == {"kind": "sql.submit", "query": GOLD}  # the last that ran cleanly
    assert "budget" in ep.steps[-1].rationale
    assert ep.outcome == AgentOutcome(status="truncated", steps=4, final_answer=GOLD)
    assert ep.score.value == 1.0


def test_when_nothing_ran_cleanly_the_last_query_is_submitted(
        music_task: Task, run_episode: Any, write_script: Any) -> None:
    replies = ["```sql\nSELECT a FROM nowhere\n```", "```sql\nSELECT b FROM nowhere\n```"]
    ep = run_episode(music_task, write_script(replies), max_steps=2)
    assert ep.steps[-1].action == {"kind": "sql.submit", "query": "SELECT b FROM nowhere"}
    assert ep.score.value == 0.0


def test_rewriting_the_query_that_just_ran_submits_it(music_task: Task, run_episode: Any,
                                                      write_script: Any) -> None:
    ep = run_episode(music_task, write_script({"default": FENCED_GOLD + "\n"}))
    assert ep.queries == [GOLD]
    assert ep.outcome.status == "terminated" and ep.score.value == 1.0


@pytest.mark.parametrize(("first", "submitted"), [(None, "SELECT a\n  FROM nowhere"), (FENCED_GOLD, GOLD)])
def test_rewriting_the_query_that_just_failed_ends_the_episode(music_task: Task, run_episode: Any,
                                                              write_script: Any, first: str | None,
                                                              submitted: str) -> None:
    failing = "```sql\nSELECT a\n  FROM nowhere\n```"
    replies = [*([first] if first else []), failing, failing.replace("\n  ", " "), FENCED_GOLD]
    ep = run_episode(music_task, write_script(replies), max_steps=5)
    assert ep.queries == [*([GOLD] if first else []), "SELECT a\n  FROM nowhere"]  # not run a second time
    assert ep.model_calls == len(replies) - 1  # the model is not asked again
    assert ep.steps[-1].action == {"kind": "sql.submit", "query": submitted}  # the best query so far
    assert "just failed" in ep.steps[-1].rationale
    assert ep.outcome.status == "truncated"
    assert ep.score.value == (1.0 if first else 0.0)


def test_a_query_that_runs_forever_comes_back_as_an_error(music_task: Task, run_episode: Any,
                                                          write_script: Any) -> None:
    forever = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    spec = write_script({"rules": [
        {"when": r"\AQuery result:", "reply": "SUBMIT"},
        {"when": r"\AQuery error:", "reply": FENCED_GOLD},
        {"when": "Question:", "reply": f"```sql\n{forever}\n```"},
    ]})
    ep = run_episode(music_task, spec, env_options={"timeout_s": 0.5})
    assert ep.queries == [forever, GOLD]
    assert ep.steps[0].observation["error"]
    assert ep.outcome.status == "terminated" and ep.score.value == 1.0


class CatalogOnly:
    """The real environment behind only the Environment protocol: no ``schema_text()``.

    Stands for a third-party SQL environment that shows no schema at all.
    """

    def __init__(self, env: SQLEnvironment) -> None:
        self.env = env

    def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        return self.env.reset(task, seed=seed)

    def step(self, action: ActionBase) -> StepResult:
        return self.env.step(action)

    def evaluate(self) -> Score:
        return self.env.evaluate()

    def close(self) -> None:
        self.env.close()


@pytest.mark.parametrize("catalog_only", [False, True])
def test_schema_comes_from_the_environment_when_the_observation_has_none(
        music_task: Task, write_script: Any, catalog_only: bool) -> None:
    from steadyhand.agents import EpisodeContext
    from steadyhand.models import load

    spec = write_script({"rules": [
        {"when": r"\AQuery result:", "reply": "SUBMIT"},
        # Only a prompt that shows the singer table gets the right query.
        {"when": r"(?s)CREATE TABLE singer.*Question:", "reply": FENCED_GOLD},
    ]})
    env: Any = CatalogOnly(SQLEnvironment()) if catalog_only else SQLEnvironment()
    steps: list[Any] = []
    try:
        first = env.reset(music_task)
        bare = Observation(text=first.text, info={"db_id": "music", "dialect": "sqlite"})
        ctx = EpisodeContext(task=music_task, env=env, model=load(spec), thread_id="t",
                             record_step=steps.append)
        outcome = SQLAgent().run(ctx, bare)
        assert outcome.status == "terminated" and env.evaluate().value == 1.0
    finally:
        env.close()
    kinds = [s.action["kind"] for s in steps]
    if catalog_only:  # the catalog read is a recorded step, outside the query budget
        assert "sqlite_master" in steps[0].action["query"]
        assert kinds == ["sql.execute", "sql.execute", "sql.submit"]
        assert [s.index for s in steps] == [0, 1, 2]
    else:  # SQLEnvironment.schema_text(): no extra step
        assert kinds == ["sql.execute", "sql.submit"]


def test_a_failing_model_call_ends_with_an_error_not_an_exception(
        music_task: Task, run_episode: Any, write_script: Any) -> None:
    # No rule, no reply left and no default: the scripted model raises.
    saver = InMemorySaver()
    ep = run_episode(music_task, write_script({"replies": [FENCED_GOLD]}), checkpointer=saver, thread_id="t")
    assert ep.outcome.status == "error"
    assert "ModelOutputError" in (ep.outcome.error or "")
    assert ep.outcome.steps == 1
    # The checkpoint is kept: the same thread resumes at the failed call, not from the start.
    again = run_episode(music_task, write_script({"default": "SUBMIT"}, name="b.json"), checkpointer=saver,
                        thread_id="t")
    assert again.model_calls == 1
    assert [s.action["kind"] for s in again.steps] == ["sql.submit"]
    assert again.outcome == AgentOutcome(status="terminated", steps=2, final_answer=GOLD)
    assert again.score.value == 1.0


def test_a_finished_thread_is_not_run_again(music_task: Task, run_episode: Any, write_script: Any) -> None:
    spec = write_script({"rules": [
        {"when": r"\AQuery result:", "reply": "SUBMIT"},
        {"when": "Question:", "reply": FENCED_GOLD},
    ]})
    saver = InMemorySaver()
    first = run_episode(music_task, spec, checkpointer=saver, thread_id="run/1")
    again = run_episode(music_task, spec, checkpointer=saver, thread_id="run/1")
    assert again.outcome == first.outcome
    assert again.model_calls == 0 and again.steps == []
    assert again.score.value == 1.0  # the stored submission reached the fresh environment
    other = run_episode(music_task, spec, checkpointer=saver, thread_id="run/2")
    assert other.model_calls == 2  # a new thread is a fresh episode


def test_max_new_tokens_reaches_models_that_take_it(music_task: Task) -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from steadyhand.agents import EpisodeContext

    seen: list[dict[str, Any]] = []

    class Recording(FakeListChatModel):
        max_new_tokens: int = 256

        def invoke(self, *args: Any, **kwargs: Any) -> Any:
            seen.append(kwargs)
            return super().invoke(*args)

    env = SQLEnvironment()
    try:
        first = env.reset(music_task)
        model = Recording(responses=[FENCED_GOLD, "SUBMIT"])
        ctx = EpisodeContext(task=music_task, env=env, model=model, thread_id="t")  # no usage tracker
        assert SQLAgent(max_new_tokens=64).run(ctx, first).status == "terminated"
    finally:
        env.close()
    assert seen == [{"max_new_tokens": 64, "stop": ["\n```\n"]}] * 2


# --- pure parts -------------------------------------------------------------------------


def test_routers_are_pure_functions_of_state() -> None:
    settings = Settings(max_steps=2, max_format_retries=1)
    assert route_reply({"decision": "sql"}, settings) == "execute"
    assert route_reply({"decision": "submit"}, settings) == "submit"
    assert route_reply({"decision": "repeat"}, settings) == "submit"
    assert route_reply({"decision": "none", "format_retries": 1}, settings) == "revise"
    assert route_reply({"decision": "none", "format_retries": 2, "last_query": "SELECT 1"}, settings) == "submit"
    assert route_reply({"decision": "none", "format_retries": 2}, settings) == "__end__"
    assert observe({"executions": 1}, settings) == "revise"
    assert observe({"executions": 2}, settings) == "submit"
    assert observe({"executions": 1, "env_done": True}, settings) == "__end__"


def test_prompt_window_keeps_the_task_and_recent_exchanges() -> None:
    msgs: list[Any] = [{"role": "system", "content": "s"}, {"role": "user", "content": "task"}]
    for i in range(5):
        msgs += [{"role": "assistant", "content": f"a{i}"}, {"role": "user", "content": f"u{i}"}]
    window = prompt_window(msgs, history=2)
    assert [m["content"] for m in window] == ["s", "task", "a3", "u3", "a4", "u4"]


def test_templates_refuse_missing_variables() -> None:
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        render("task", db_id="x", schema="y")
