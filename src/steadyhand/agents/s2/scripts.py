"""Scripted S2 runs: a task's solution written as S2 subgoals and calls, turned into a model script.

An **S2 oracle** solves a task in the agent's own terms::

    {"subgoals": [
        {"name": "Fix the typo", "info": "jumsp -> jumps",
         "calls": ["agent.click('\\"jumsp\\"', 2)", "agent.type(text='jumps')"]},
        {"name": "Save the file", "calls": ["agent.hotkey(['ctrl', 's'])"]}],
     "infeasible": false, "reason": ""}

:func:`oracle_script` turns it into a script for the scripted chat model
(:mod:`steadyhand.models.scripted`) that plays manager, worker, reflector and checker:
the plan lists every subgoal; each replan (after subgoal *k*) lists the rest; the
worker replies with the subgoal's calls in order and then ``agent.done()``; the
reflection is always on track and the completion check says YES. Every call in an
oracle is validated by the action API's parser when the oracle is loaded, so a typo
in an oracle fails there, not mid-episode.

The built-in oracles for desk-mini tasks are in ``oracles/<task id>.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from steadyhand.agents.s2.action_api import parse_call
from steadyhand.core.errors import DatasetError

ORACLES_DIR = Path(__file__).with_name("oracles")


class OracleSubgoal(BaseModel):
    """A subgoal of an S2 oracle and the calls that complete it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    info: str = ""
    calls: list[str] = Field(min_length=1)

    @field_validator("calls")
    @classmethod
    def _parse(cls, calls: list[str]) -> list[str]:
        for call in calls:
            parse_call(call)  # raises CallParseError (a ValueError) naming the problem
        return calls


class S2Oracle(BaseModel):
    """A task's solution as S2 subgoals (or the verdict that it is infeasible)."""

    model_config = ConfigDict(extra="forbid")

    subgoals: list[OracleSubgoal] = Field(default_factory=list)
    infeasible: bool = False
    reason: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> S2Oracle:
        if self.infeasible == bool(self.subgoals):
            raise ValueError("an oracle has subgoals, or is infeasible, not both or neither")
        names = [s.name for s in self.subgoals]
        if len(set(names)) != len(names):
            raise ValueError("subgoal names must be unique (the script tells them apart by name)")
        return self


def load_oracle(task_id: str, directory: Path = ORACLES_DIR) -> S2Oracle:
    """The S2 oracle of ``task_id``.

    Raises:
        DatasetError: no such oracle, or it is malformed.
    """
    path = directory / f"{task_id}.json"
    try:
        return S2Oracle.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DatasetError("no S2 oracle", path=str(path), item=task_id) from exc
    except ValueError as exc:
        raise DatasetError(f"invalid S2 oracle: {exc}", path=str(path), item=task_id) from exc


def oracle_task_ids(directory: Path = ORACLES_DIR) -> list[str]:
    """The tasks that have a built-in S2 oracle."""
    return sorted(p.stem for p in directory.glob("*.json"))


def _plan(subgoals: list[OracleSubgoal]) -> str:
    body = {"status": "continue", "subgoals": [{"name": s.name, "info": s.info} for s in subgoals]}
    return "```json\n" + json.dumps(body) + "\n```"


def _fenced(call: str) -> str:
    return f"Next step.\n```python\n{call}\n```"


def oracle_script(oracle: S2Oracle) -> dict[str, Any]:
    """A scripted-model script (a dict; dump it to YAML or JSON) that plays the oracle through the S2 graph."""
    rules: list[dict[str, Any]] = [
        {"when": r"\A# Check completion", "reply": "YES, the task is complete."},
        {"when": r"\A# Reflection", "reply": "The last action had the intended effect.\nVERDICT: ON_TRACK"},
    ]
    if oracle.infeasible:
        reply = json.dumps({"status": "infeasible", "subgoals": [], "reason": oracle.reason or "infeasible"})
        rules.append({"when": r"\A# (Re)?[Pp]lan", "reply": f"```json\n{reply}\n```"})
        return {"rules": rules}
    subgoals = oracle.subgoals
    for s in subgoals:
        rules.append({"when": rf"\A# Next action.*?\nCurrent subgoal: {re.escape(s.name)}\n",
                      "replies": [_fenced(c) for c in s.calls] + [_fenced("agent.done()")]})
    for k in range(len(subgoals) - 1, 0, -1):  # the latest finished subgoal first
        rules.append({"when": rf"\A# Replan.*\[done\] {re.escape(subgoals[k - 1].name)}\b",
                      "reply": _plan(subgoals[k:])})
    rules.append({"when": r"\A# Plan", "reply": _plan(subgoals)})
    return {"rules": rules}


def write_oracle_script(task_id: str, path: Path, directory: Path = ORACLES_DIR) -> str:
    """Write ``task_id``'s oracle script to ``path`` (JSON) and return its model spec (``scripted:<path>``)."""
    path.write_text(json.dumps(oracle_script(load_oracle(task_id, directory)), indent=1), encoding="utf-8")
    return f"scripted:{path}"
