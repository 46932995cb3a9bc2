"""The accessibility expert: descriptions matched against the AT-SPI tree.

Reads ``observation.accessibility_tree`` (OSWorld's XML, as the desktop server's
``/accessibility`` returns it). Elements that are showing and have a box on the
screen are candidates; each is scored on its name (or its short text) against the
description's phrases, with a bonus when its role is the kind of widget the
description names and when it belongs to the active window. AT-SPI boxes are in
screen pixels already, so no mapping is needed.

Spec: ``[?min_score=0.6]``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import ClassVar

from steadyhand.core.observation import Observation
from steadyhand.tools.grounding import matching
from steadyhand.tools.grounding.base import (
    POINT_ACTIONS,
    BoxTarget,
    GroundingError,
    GroundingRequest,
    GroundingResult,
    register_expert,
)
from steadyhand.tools.grounding.coordinates import screen_size
from steadyhand.tools.grounding.specs import reject_unknown, split_spec, take_float

_CP = "https://accessibility.ubuntu.example.org/ns/component"
_ST = "https://accessibility.ubuntu.example.org/ns/state"
_PAIR = re.compile(r"\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)")

#: Description words -> AT-SPI roles they refer to.
ROLE_MAP: dict[str, frozenset[str]] = {
    "button": frozenset({"push-button", "toggle-button", "button", "menu-button", "split-button"}),
    "menu": frozenset({"menu", "menu-item", "menu-bar"}),
    "item": frozenset({"menu-item", "list-item", "tree-item", "check-menu-item", "radio-menu-item"}),
    "link": frozenset({"link"}),
    "tab": frozenset({"page-tab"}),
    "checkbox": frozenset({"check-box", "check-menu-item"}),
    "radio": frozenset({"radio-button", "radio-menu-item"}),
    "heading": frozenset({"heading"}),
    "field": frozenset({"entry", "text", "password-text", "spin-button"}),
    "entry": frozenset({"entry", "text"}),
    "input": frozenset({"entry", "text", "password-text"}),
    "combo": frozenset({"combo-box"}),
    "list": frozenset({"list", "list-box", "list-item"}),
    "label": frozenset({"label", "static"}),
    "icon": frozenset({"push-button", "toggle-button", "icon", "image"}),
    "cell": frozenset({"table-cell"}),
    "title": frozenset({"frame", "heading", "label"}),
}


@dataclass(frozen=True)
class Element:
    """A visible element of the tree: role, name, short text, screen box, and whether its window is active."""

    role: str
    name: str
    text: str
    left: int
    top: int
    width: int
    height: int
    active: bool

    @property
    def label(self) -> str:
        """What the element shows or is called: its name, else its text."""
        return self.name or self.text

    @property
    def center(self) -> tuple[int, int]:
        return self.left + self.width // 2, self.top + self.height // 2


def _pair(value: str | None) -> tuple[int, int] | None:
    match = _PAIR.match(value or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def parse_tree(xml: str, *, screen: tuple[int, int] | None = None) -> list[Element]:
    """Every showing element with a box (on the screen, when its size is given), in document order.

    Raises:
        GroundingError: the XML cannot be parsed.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise GroundingError(f"the accessibility tree is not valid XML: {exc}") from exc
    found: list[Element] = []

    def walk(node: ET.Element, active: bool) -> None:
        role = node.tag.rsplit("}", 1)[-1]
        if role in ("frame", "dialog", "window", "alert", "file-chooser"):
            active = node.get(f"{{{_ST}}}active") == "true"
        position, size = _pair(node.get(f"{{{_CP}}}screencoord")), _pair(node.get(f"{{{_CP}}}size"))
        if position and size and size[0] > 0 and size[1] > 0 and node.get(f"{{{_ST}}}showing") == "true":
            left, top = position
            width, height = size
            on_screen = screen is None or (left < screen[0] and top < screen[1] and left + width > 0
                                           and top + height > 0)
            if on_screen:
                text = (node.text or "").strip()
                found.append(Element(role, (node.get("name") or "").strip(), text if len(text) <= 200 else "",
                                     left, top, width, height, active))
        for child in node:
            walk(child, active)

    walk(root, False)
    return found


def role_matches(element: Element, hints: set[str]) -> bool:
    """Whether the element's role is one the description's widget words name."""
    return any(element.role in ROLE_MAP.get(hint, frozenset({hint})) for hint in hints)


def score(element: Element, phrases: list[matching.Phrase], hints: set[str]) -> tuple[float, float, matching.Phrase]:
    """(ranking key, confidence, phrase) of one element for a description."""
    best = (0.0, matching.Phrase("", 0.0))
    for phrase in phrases:
        for text in {element.name, element.text} - {""}:
            value = matching.confidence(matching.similarity(text, phrase.text), phrase)
            if value > best[0]:
                best = (value, phrase)
    conf, phrase = best
    role_ok = role_matches(element, hints) if hints else True
    if hints and not role_ok:
        conf *= 0.9
    key = conf + (0.05 if hints and role_ok else 0.0) + (0.02 if element.active else 0.0)
    return key, conf, phrase


@register_expert("accessibility")
class AccessibilityExpert:
    """Grounds descriptions on the accessibility tree (see the module docstring)."""

    name = "accessibility"
    serves: ClassVar[frozenset[str]] = POINT_ACTIONS

    def __init__(self, spec: str = "") -> None:
        self.spec = spec
        _, options = split_spec(spec)
        self.min_score = take_float(options, "min_score", 0.6)
        reject_unknown("accessibility", options)

    def ground(self, request: GroundingRequest, observation: Observation) -> GroundingResult:
        """The box of the best-matching element, in screen pixels.

        Raises:
            GroundingError: no tree in the observation, invalid XML, or no element matches well enough.
        """
        if not observation.accessibility_tree:
            raise GroundingError("accessibility expert: the observation has no accessibility tree "
                                 "(turn on accessibility_tree in the environment)")
        phrases = matching.phrases(request.description)
        if not phrases:
            raise GroundingError("accessibility expert: the description is empty")
        screen = screen_size(observation, request) if observation.screenshot or observation.info else None
        elements = [e for e in parse_tree(observation.accessibility_tree, screen=screen) if e.label]
        hints = matching.role_hints(request.description)
        ranked = sorted(((score(e, phrases, hints), e) for e in elements), key=lambda item: -item[0][0])
        if not ranked or ranked[0][0][1] < self.min_score:
            best = f"; best was {ranked[0][1].label!r}" if ranked else ""
            raise GroundingError(f"accessibility expert: no element matches {request.description!r}{best}")
        (_, conf, phrase), element = ranked[0]
        runner_up = ranked[1][0][1] if len(ranked) > 1 else 0.0
        return GroundingResult(
            target=BoxTarget(left=element.left, top=element.top, width=element.width, height=element.height),
            confidence=conf, expert=self.name,
            details={"role": element.role, "name": element.name, "phrase": phrase.text,
                     "runner_up": round(runner_up, 3), "candidates": len(elements)})
