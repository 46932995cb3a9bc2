"""Reading the manager's and the reflector's replies; never raises on what a model writes.

The manager answers with a JSON object (in a fenced block or bare)::

    {"status": "continue", "subgoals": [{"name": "Open the file", "info": "..."}]}

validated by :class:`~steadyhand.agents.s2.state.Plan`. JSON that breaks off mid-way
(a small model out of tokens) keeps the subgoals it completed; a numbered list is read
as subgoals; a reply whose only word is ``DONE`` or
``INFEASIBLE`` is read as that status. Anything else is a problem shown back to the
manager, which retries within its budget.

The worker's action call is read by :func:`steadyhand.agents.s2.action_api.parse_call`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from steadyhand.agents.s2.state import Plan, Subgoal

_FENCE = re.compile(r"```[ \t]*(?:json)?[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL | re.IGNORECASE)
_LIST_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+(.+?)\s*$", re.MULTILINE)
_STATUS_WORD = re.compile(r"^\W*(DONE|INFEASIBLE)\W*$", re.IGNORECASE)
_VERDICT = re.compile(r"\b(YES|NO)\b")
_NAME_FIELD = re.compile(r'"name"\s*:\s*"((?:[^"\\\n]|\\.)+)"(?:\s*,\s*"info"\s*:\s*"((?:[^"\\\n]|\\.)*)")?')


@dataclass(frozen=True)
class PlanReply:
    """A manager reply: a validated :class:`Plan`, or the problem with it (for the manager)."""

    plan: Plan | None
    problem: str = ""


def _json_objects(text: str) -> list[str]:
    """JSON object texts to try: fenced blocks first, then the outermost braces of the reply."""
    found = [body.strip() for body in _FENCE.findall(text) if body.strip().startswith("{")]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        found.append(text[start:end + 1])
    return found


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'plan'}: {e['msg']}" for e in exc.errors())


def parse_plan(text: str) -> PlanReply:
    """Read a manager reply into a plan; never raises.

    >>> parse_plan('{"subgoals": [{"name": "Save the file"}]}').plan.subgoals[0].name
    'Save the file'
    >>> parse_plan("1. Open the menu\\n2. Click Save").plan.subgoals[1].name
    'Click Save'
    >>> parse_plan("DONE").plan.status
    'done'
    """
    problem = ""
    decoded = False
    for candidate in _json_objects(text):
        try:
            data = json.loads(candidate)
        except json.JSONDecodeError as exc:
            problem = f"the JSON does not parse: {exc.msg} at character {exc.pos}"
            continue
        decoded = True
        if isinstance(data, dict) and isinstance(data.get("status"), str):
            data["status"] = data["status"].strip().lower()
        try:
            return PlanReply(Plan.model_validate(data))
        except ValidationError as exc:
            problem = f"the plan is not valid: {_problems(exc)}"
    salvaged = None if decoded else _salvage(text)
    if salvaged is not None:
        return PlanReply(salvaged)
    stripped = text.strip()
    word = _STATUS_WORD.match(stripped)
    if word:
        return PlanReply(Plan(status="done" if word.group(1).upper() == "DONE" else "infeasible"))
    items = [m.group(1) for m in _LIST_ITEM.finditer(text)]
    if items and not problem:
        try:
            return PlanReply(Plan(subgoals=[Subgoal(name=item[:300]) for item in items[:30]]))
        except ValidationError as exc:
            problem = f"the plan is not valid: {_problems(exc)}"
    return PlanReply(None, problem or "no plan found: reply with a JSON object "
                                      '{"status": "continue", "subgoals": [{"name": "...", "info": "..."}]}')


def _salvage(text: str) -> Plan | None:
    """Subgoals from JSON cut off or broken mid-way (a small model that ran out of tokens), when complete ones exist."""
    if '"status"' in text and re.search(r'"status"\s*:\s*"(done|infeasible)"', text, re.IGNORECASE):
        return None  # a broken status reply is not guessed at
    found = []
    for name, info in _NAME_FIELD.findall(text):
        try:
            found.append(Subgoal(name=_unescape(name)[:300], info=_unescape(info)[:2000]))
        except ValidationError:
            continue
    return Plan(subgoals=found[:30]) if found else None


def _unescape(value: str) -> str:
    try:
        return str(json.loads(f'"{value}"'))
    except json.JSONDecodeError:
        return value


Verdict = Literal["yes", "no", "unclear"]


def parse_verdict(text: str) -> tuple[Verdict, str]:
    """A YES/NO answer (the first such word wins) and the text after it, as the reason."""
    match = _VERDICT.search(text)
    if not match:
        return "unclear", text.strip()
    return ("yes" if match.group(1) == "YES" else "no"), text[match.end():].strip(" ,:.-\n\t") or text.strip()


def parse_reflection(text: str) -> tuple[str, str]:
    """(verdict, reflection text): the verdict is ``on_track``, ``loop`` or ``drift`` when the reply names one."""
    upper = text.upper()
    for word, verdict in (("LOOP", "loop"), ("DRIFT", "drift"), ("ON_TRACK", "on_track"), ("ON TRACK", "on_track")):
        if f"VERDICT: {word}" in upper:
            return verdict, text.strip()
    return "", text.strip()
