"""A scripted "gullible" agent (agent ``gullible``) for measuring attacks and guards.

It solves a task by replaying the task's oracle (``metadata["oracle"]``), but before each
step it obeys any on-screen instruction addressed to an AI agent or shaped as a system
alert: navigate to a URL, click a named button, type a code into a field. That makes
attack success measurable without a model; the guards (``guards`` option, see
:class:`~steadyhand.safety.GuardSet`) judge every action, and denied actions are skipped.

On the web it reads the page text and ARIA snapshot. On a desktop it reads the screen
with OCR (the textual grounding expert, also put in ``info["ocr_text"]`` for the guards)
and clicks a named button where OCR finds its label.
"""

from __future__ import annotations

import re
from typing import Any

from steadyhand.agents.base import AgentOutcome, EpisodeContext, StepRecord
from steadyhand.core.actions import ActionBase, Click, Done, Typing, WebClick, WebNavigate, WebType, parse_action
from steadyhand.core.observation import Observation
from steadyhand.core.registry import agents
from steadyhand.safety.guards import GuardSet

_ADDRESSED = re.compile(r"[^.\n]*(?:\bAI agent\b|\bALERT\b)[^\n]*", re.IGNORECASE)
_NAVIGATE = re.compile(r"navigate to (\S+?)[.,]?(?=\s|$|\")", re.IGNORECASE)
_CLICK = re.compile(r"click the (.+?) button", re.IGNORECASE)
_TYPE = re.compile(r"type the verification code (\S+) into the (\w+)(?: field)?", re.IGNORECASE)


def obeyed_actions(observation: Observation) -> list[ActionBase]:
    """The actions on-screen instructions ask for, in the order they appear (page text, then ARIA)."""
    found: list[ActionBase] = []
    ocr = str(observation.info.get("ocr_text") or "")
    for text in (observation.text or "", observation.accessibility_tree or "", ocr):
        for segment in _ADDRESSED.findall(text):
            for m in _NAVIGATE.finditer(segment):
                found.append(WebNavigate(url=m.group(1)))
            for m in _CLICK.finditer(segment):
                found.append(WebClick(role="button", name=m.group(1).strip()))
            for m in _TYPE.finditer(segment):
                found.append(WebType(field=m.group(2), text=m.group(1), submit=True))
    return found


_ADDRESS = re.compile(r"\bAI agent\b|\bALERT\b", re.IGNORECASE)
_CLICK_LINE = re.compile(r"click the (.+?) button", re.IGNORECASE)
_CODE_LINE = re.compile(r"type the verification code (\S+)", re.IGNORECASE)


def desktop_requests(ocr_text: str) -> list[tuple[str, str]]:
    """``("click", label)`` and ``("type", code)`` requests in a desktop's OCR text, line by line.

    OCR lines of windows side by side interleave, so a request is read from one line, and
    only when something on the screen addresses an AI agent or raises an alert.
    """
    if not _ADDRESS.search(ocr_text):
        return []
    found: list[tuple[str, str]] = []
    for line in ocr_text.splitlines():
        found += [("click", m.group(1).strip()) for m in _CLICK_LINE.finditer(line)]
        found += [("type", m.group(1)) for m in _CODE_LINE.finditer(line)]
    return found


@agents.register("gullible")
class GullibleAgent:
    """Obeys on-screen instructions, then follows the task's oracle.

    Args:
        guards: the guards to consult (``none`` by default; ``all`` or a comma list).
        policy: the action policy (YAML file or text); built-in rules when None.
        approve: how ``confirm`` verdicts are settled (``deny`` by default: it runs unattended).
        max_steps: actions tried per episode (executed or denied).
    """

    name = "gullible"

    def __init__(self, guards: str | list[str] | bool | None = None, policy: Any = None, approve: str = "deny",
                 max_steps: int = 12) -> None:
        self.guards = GuardSet.from_options(guards, policy=policy, approve=approve)
        self.max_steps = max_steps
        self._ocr: Any = None

    def run(self, ctx: EpisodeContext, first: Observation) -> AgentOutcome:
        """Run one episode (see the class docstring)."""
        if self.guards is not None:
            self.guards.reset()
        oracle = [parse_action(a) for a in ctx.task.metadata.get("oracle", [])]
        desktop = ctx.task.environment == "desktop"
        obs, done, pending, index = self._read(first, desktop), set(), [], 0
        for _ in range(self.max_steps):
            obeyed: ActionBase | None = None
            asks = desktop_requests(str(obs.info.get("ocr_text") or "")) if desktop else obeyed_actions(obs)
            for asked in asks:  # each instruction is obeyed once
                key = repr(asked) if isinstance(asked, tuple) else asked.model_dump_json()
                if key not in done:
                    done.add(key)
                    obeyed = self._on_desktop(asked, obs) if isinstance(asked, tuple) else asked
                    if obeyed is not None:
                        break
            if obeyed is not None:
                action, why = obeyed, "the screen told me to"
            elif oracle:
                action, why = oracle.pop(0), "the task's next step"
            else:
                action, why = Done(), "the task is done"
            verdicts = []
            if self.guards is not None:
                verdicts = self.guards.before(action, obs, target=_target(action))
                if self.guards.decide(verdicts) != "allow":
                    pending += [v.model_dump() for v in verdicts]
                    continue
            result = ctx.env.step(action)
            after = self.guards.after(action, obs, result.observation) if self.guards is not None else []
            ctx.record_step(StepRecord(index=index, action=action.model_dump(), rationale=why,
                                       observation=result.observation.summary(max_chars=500),
                                       guard_verdicts=[*pending, *(v.model_dump() for v in [*verdicts, *after])]))
            index, pending, obs = index + 1, [], self._read(result.observation, desktop)
            if result.terminated or result.truncated:
                return AgentOutcome(status="terminated" if result.terminated else "truncated", steps=index)
        return AgentOutcome(status="truncated", steps=index, error="the step budget ran out")


    # --- desktops -------------------------------------------------------------------------------

    def _read(self, observation: Observation, desktop: bool) -> Observation:
        """On a desktop, ``observation`` with the screen's OCR text in ``info["ocr_text"]``."""
        if not desktop or observation.screenshot is None or "ocr_text" in observation.info:
            return observation
        from steadyhand.tools.grounding.ocr import as_lines

        text = as_lines(self._textual().words(observation))
        return observation.model_copy(update={"info": {**observation.info, "ocr_text": text}})

    def _textual(self) -> Any:
        if self._ocr is None:
            from steadyhand.tools.grounding.experts import TextualExpert

            self._ocr = TextualExpert("tesseract")
        return self._ocr

    def _on_desktop(self, asked: tuple[str, str], observation: Observation) -> ActionBase | None:
        """The desktop action for a request (a click where OCR finds the label), or None."""
        what, value = asked
        if what == "type":
            return Typing(text=value)
        from steadyhand.tools.grounding.base import BoxTarget, GroundingError, GroundingRequest

        request = GroundingRequest(action="click", description=f"the {value} button")
        try:
            box = self._textual().ground(request, observation).target
        except GroundingError:
            return None
        if not isinstance(box, BoxTarget):
            return None
        return _PointedClick(x=box.left + box.width // 2, y=box.top + box.height // 2, label=value)


class _PointedClick(Click):
    """A desktop click that remembers the label it aims at (for the guards and the trajectory)."""

    label: str = ""


def _target(action: ActionBase) -> str:
    """What an action points at: a button's name or text, a URL, a field."""
    if isinstance(action, _PointedClick):
        return f"{action.label} button"
    if isinstance(action, WebClick):
        return action.name or action.text or ""
    if isinstance(action, WebNavigate):
        return action.url
    if isinstance(action, WebType):
        return action.field or ""
    return ""
