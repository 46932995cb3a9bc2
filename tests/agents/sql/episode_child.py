"""One SQL-agent episode in its own process, for the kill-and-resume test.

Usage: python episode_child.py CONFIG_JSON

CONFIG_JSON holds ``task`` (a Task as JSON), ``script`` (a scripted-model file),
``checkpoints`` (a SQLite checkpoint file), ``thread_id``, ``calls_log`` and
``steps_log`` (JSON-lines files this process appends to) and ``kill_at``: when
non-zero, this process SIGKILLs itself during its ``kill_at``-th model call, before
the model answers. On a normal end it prints the outcome and score as JSON.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from langgraph.checkpoint.sqlite import SqliteSaver

from steadyhand.agents import EpisodeContext, StepRecord
from steadyhand.agents.sql import SQLAgent
from steadyhand.core import Task
from steadyhand.environments.sql import SQLEnvironment
from steadyhand.models import ScriptedChatModel, UsageTracker
from steadyhand.models.scripted import Script


def _append(path: str, record: dict[str, Any]) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


class KillingModel(ScriptedChatModel):
    """A scripted model that logs each call and kills its own process on call ``kill_at``."""

    calls_log: str
    kill_at: int = 0
    calls: int = 0

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        self.calls += 1
        _append(self.calls_log, {"pid": os.getpid(), "prompt": str(messages[-1].content)})
        if self.calls == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)  # a real, uncatchable kill mid-episode
        return super()._generate(messages, stop, run_manager, **kwargs)


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    task = Task.model_validate_json(config["task"])
    model = KillingModel(script=Script.from_file(config["script"]), calls_log=config["calls_log"],
                         kill_at=config["kill_at"])
    model.callbacks = [UsageTracker(spec="scripted")]
    conn = sqlite3.connect(config["checkpoints"], check_same_thread=False)
    saver = SqliteSaver(conn)
    saver.setup()
    env = SQLEnvironment()
    first = env.reset(task)

    def record(step: StepRecord) -> None:
        _append(config["steps_log"], {"pid": os.getpid(), "index": step.index, "action": step.action})

    ctx = EpisodeContext(task=task, env=env, model=model, thread_id=config["thread_id"],
                         checkpointer=saver, record_step=record)
    outcome = SQLAgent().run(ctx, first)
    score = env.evaluate()
    env.close()
    conn.close()
    print(json.dumps({"outcome": outcome.model_dump(), "score": score.value}))


if __name__ == "__main__":
    main()
