"""Redaction of model inputs: the model never sees personal data that was in the task or on screen.

Scripted models (deterministic) stand in for a real model; the runner test runs the real
sql-mini database, SQL agent, runner and result store.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from typer.testing import CliRunner

from steadyhand.agents.sql.oracle import RESULT_PATTERN
from steadyhand.cli import app
from steadyhand.core.registry import suites
from steadyhand.core.task import Suite
from steadyhand.evals import ResultStore, RunConfig, resolve_suite, run_suite
from steadyhand.models import load, usage
from steadyhand.safety.privacy import redact_model_inputs

EMAIL, CARD = "carol@example.com", "4111 1111 1111 1111"
PNG = "data:image/png;base64,iVBORw0KGgo="
SAW = r"carol@example\.com|4111 1111"


class Seen(BaseCallbackHandler):
    """Records the messages every model call starts with (what the model is given)."""

    def __init__(self) -> None:
        self.messages: list[BaseMessage] = []

    def on_chat_model_start(self, serialized: dict[str, Any], messages: list[list[BaseMessage]], *,
                            run_id: UUID, **kwargs: Any) -> None:
        self.messages += [m for batch in messages for m in batch]


def _script(tmp_path: Path, rules: list[dict[str, str]], default: str = "clean") -> str:
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"rules": rules, "default": default}))
    return f"scripted:{path}"


def test_text_parts_are_redacted_images_kept_and_usage_still_tracked(tmp_path: Path) -> None:
    spec = _script(tmp_path, [{"when": SAW, "in": "all", "reply": "SAW IT"}])
    screen = [{"type": "text", "text": f"Inbox of {EMAIL}; card on file {CARD}"},
              {"type": "image_url", "image_url": {"url": PNG}}]
    prompt = [SystemMessage(f"You act for {EMAIL}."), HumanMessage(content=screen)]
    plain = load(spec)
    assert plain.invoke(prompt).content == "SAW IT"  # the script does notice the data

    seen = Seen()
    model = redact_model_inputs(load(spec))
    assert model.invoke(prompt, config={"callbacks": [seen]}).content == "clean"
    assert model.generate([prompt]).generations[0][0].text == "clean"
    assert [r.content for r in model.batch([prompt, prompt])] == ["clean", "clean"]
    given = repr([m.content for m in seen.messages])
    assert EMAIL not in given and "4111" not in given and "[REDACTED:email]" in given and "[REDACTED:card]" in given
    assert {"type": "image_url", "image_url": {"url": PNG}} in seen.messages[1].content
    assert prompt[0].content == f"You act for {EMAIL}."  # the caller's messages are not changed
    tracker = usage(model)
    assert len(tracker.calls) == 4 and tracker.input_tokens > 0
    assert type(model).__name__ == "RedactingScriptedChatModel" and redact_model_inputs(model).invoke("x")


def _pii_suite() -> Suite:
    """sql-mini's first task, with an e-mail address and a card number in its question."""
    base = resolve_suite("sql-mini")
    task = base.load()[0]
    pii = task.model_copy(update={"id": "pii-0", "instruction": f"{task.instruction} (asked by {EMAIL}, "
                                                                  f"card {CARD})"})
    return Suite(name="test-pii", environment=base.environment, load=lambda: [pii], default_agent="sql",
                 environment_options=base.environment_options)


suites.register("test-pii", _pii_suite, replace=True)


def test_the_runner_switch_keeps_the_data_from_the_model(tmp_path: Path) -> None:
    gold = resolve_suite("sql-mini").load()[0].evaluator["gold"]
    # a model that answers wrongly whenever any of its inputs holds the e-mail or the card number
    spec = _script(tmp_path, [{"when": SAW, "in": "all", "reply": "```sql\nSELECT 0\n```"},
                              {"when": RESULT_PATTERN, "reply": "SUBMIT"},
                              {"when": "How many students", "reply": f"```sql\n{gold}\n```"}], default="SUBMIT")
    url = f"sqlite:///{tmp_path / 'r.db'}"
    scores = {}
    for redact_inputs in (False, True):
        result = run_suite(RunConfig(suite="test-pii", agent="sql", model=spec, redact_inputs=redact_inputs),
                           store_url=url, progress=False)
        store = ResultStore(url)
        (episode,) = store.episodes(result.run_id)
        scores[redact_inputs] = (episode["scores"].get("score"), episode["input_tokens"])
        store.close()
    assert scores[False][0] == 0.0 and scores[True][0] == 1.0
    assert scores[True][1] > 0  # usage is still tracked through the redacting model
    cli = CliRunner().invoke(app, ["eval", "test-pii", "--agent", "sql", "--model", spec, "--redact-inputs",
                                   "--db", url, "--quiet"])
    assert cli.exit_code == 0, cli.output
    assert "100.0%" in cli.output
