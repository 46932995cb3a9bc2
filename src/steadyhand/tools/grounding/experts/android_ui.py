"""The ``android_ui`` expert: descriptions matched against an Android screen's UI elements.

Reads ``observation.info["ui_elements"]`` (the dicts the ``android`` environment puts
there from ``uiautomator dump``: ``text``, ``content_desc``, ``resource_id``,
``class_name``, flags and ``bounds`` as (left, top, right, bottom) in screenshot
pixels). Each element with a box is scored against the description with rapidfuzz:

* its labels are its text, its content description, the words of its resource id
  (``com.example.notes:id/new_note`` -> ``new note``) and, weakly, its class name;
* a quoted phrase in the description (``the "Save" button``) is compared with each
  label as a whole; an unquoted description is compared token-wise, after dropping
  filler words (``the``, ``button``, ``on the screen``...);
* widget words in the description (``field``, ``switch``, ``button``...) and the request
  kind (``type`` wants an editable field, ``scroll`` a scrollable view) add a small bonus;
  a ``scroll`` request takes a scrollable view even when its words match nothing.

The best element's box is returned with its score as the confidence. Boxes are in
screenshot pixels already, so no mapping is needed.

Spec: ``[?min_score=0.6]``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from rapidfuzz import fuzz

from steadyhand.core.observation import Observation
from steadyhand.tools.grounding.base import (
    POINT_ACTIONS,
    BoxTarget,
    GroundingError,
    GroundingRequest,
    GroundingResult,
    register_expert,
)
from steadyhand.tools.grounding.specs import reject_unknown, split_spec, take_float

_QUOTED = re.compile(r"[\"“”‘’]([^\"“”‘’]{1,200})[\"“”‘’]|(?<![A-Za-z])'([^']{1,200})'(?![A-Za-z])")
_WORD = re.compile(r"[A-Za-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")

#: Words that say where or what kind of thing an element is, not which one.
FILLER: frozenset[str] = frozenset({
    "the", "a", "an", "on", "in", "of", "at", "to", "for", "with", "that", "this", "which", "labelled",
    "labeled", "named", "called", "says", "saying", "screen", "home", "top", "bottom", "left", "right",
    "button", "icon", "app", "entry", "row", "item", "field", "box", "input", "text", "area", "switch",
    "toggle", "option", "menu", "tab", "link", "list", "view", "page", "element", "label", "bar",
})
#: Description words -> a predicate on the element they name.
WIDGETS: dict[str, str] = {
    "button": "clickable", "icon": "clickable", "row": "clickable", "entry": "clickable", "item": "clickable",
    "option": "clickable", "tab": "clickable", "link": "clickable",
    "field": "editable", "box": "editable", "input": "editable",
    "switch": "checkable", "toggle": "checkable", "checkbox": "checkable",
    "list": "scrollable",
}


@dataclass(frozen=True)
class UIEntry:
    """One on-screen element as the expert sees it."""

    text: str
    content_desc: str
    resource_words: str
    class_name: str
    left: int
    top: int
    right: int
    bottom: int
    clickable: bool
    checkable: bool
    scrollable: bool
    editable: bool

    @property
    def labels(self) -> list[str]:
        """What the element shows or is called, strongest first (empty strings left out)."""
        return [label for label in (self.text, self.content_desc, self.resource_words) if label]

    @property
    def area(self) -> int:
        return (self.right - self.left) * (self.bottom - self.top)

    def has(self, quality: str) -> bool:
        """Whether the element is ``clickable``, ``editable``, ``checkable`` or ``scrollable``."""
        return bool(getattr(self, quality))


def resource_words(resource_id: str) -> str:
    """``com.example.notes:id/new_note`` -> ``new note`` (camelCase split as well)."""
    tail = resource_id.rsplit("/", 1)[-1]
    return " ".join(_WORD.findall(_CAMEL.sub(" ", tail).replace("_", " "))).lower()


def parse_elements(raw: object) -> list[UIEntry]:
    """The elements of ``info["ui_elements"]`` that have a box, in list order.

    Raises:
        GroundingError: ``raw`` is not a list of element dicts.
    """
    if not isinstance(raw, list):
        raise GroundingError(f"android_ui expert: ui_elements is a {type(raw).__name__}, not a list")
    found: list[UIEntry] = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise GroundingError("android_ui expert: ui_elements holds a non-dict entry")
        bounds = item.get("bounds") or (0, 0, 0, 0)
        try:
            left, top, right, bottom = (int(v) for v in bounds)
        except (TypeError, ValueError) as exc:
            raise GroundingError(f"android_ui expert: bad bounds {bounds!r}") from exc
        if right <= left or bottom <= top:
            continue
        class_name = str(item.get("class_name") or "")
        found.append(UIEntry(
            text=str(item.get("text") or "").strip(), content_desc=str(item.get("content_desc") or "").strip(),
            resource_words=resource_words(str(item.get("resource_id") or "")), class_name=class_name,
            left=left, top=top, right=right, bottom=bottom, clickable=bool(item.get("clickable")),
            checkable=bool(item.get("checkable")), scrollable=bool(item.get("scrollable")),
            editable="EditText" in class_name or bool(item.get("editable"))))
    return found


def quoted(description: str) -> list[str]:
    """The quoted phrases of a description (``the "Save" button`` -> ``["Save"]``)."""
    return [(a or b).strip() for a, b in _QUOTED.findall(description) if (a or b).strip()]


def content_words(description: str) -> str:
    """The description without filler words, lower-cased (``the Settings app icon`` -> ``settings``)."""
    words = [w.lower() for w in _WORD.findall(description)]
    return " ".join(w for w in words if w not in FILLER)


def widget_hints(description: str) -> set[str]:
    """The element qualities the description's widget words ask for."""
    words = {w.lower() for w in _WORD.findall(description)}
    return {WIDGETS[w] for w in words if w in WIDGETS}


def text_score(entry: UIEntry, phrases: list[str], words: str) -> tuple[float, str]:
    """(score in [0, 1], the label matched) of one element's labels against the description."""
    best, matched = 0.0, ""
    for label in entry.labels:
        low = label.lower()
        for phrase in phrases:
            value = fuzz.ratio(low, phrase.lower()) / 100
            if value > best:
                best, matched = value, label
        if words and not phrases:
            value = fuzz.token_set_ratio(low, words) / 100
            # a label matching a few words of a long description counts for less
            label_words, wanted = len(low.split()), len(words.split())
            value *= min(1.0, 0.75 + 0.25 * label_words / max(1, wanted))
            if value > best:
                best, matched = value, label
    return best, matched


def score(entry: UIEntry, request: GroundingRequest, phrases: list[str], words: str,
          hints: set[str]) -> tuple[float, float, str]:
    """(ranking key, confidence, label matched) of one element for a request."""
    conf, label = text_score(entry, phrases, words)
    if not label and request.action == "type" and entry.editable and "editable" in hints:
        # an empty field described only as "the text field": a weak, widget-only match
        conf, label = 0.6, entry.class_name
    wanted = set(hints)
    if request.action == "type":
        wanted.add("editable")
    elif request.action == "scroll":
        wanted.add("scrollable")
    bonus = sum(0.04 for quality in wanted if entry.has(quality))
    if request.action == "type" and not entry.editable:
        conf *= 0.9
    if request.action == "scroll":  # only scrollable views scroll; the one described, else any
        conf = max(conf, 0.6) if entry.scrollable else conf * 0.5
    # smaller elements win ties (the row's label over the whole list)
    key = conf + bonus - entry.area * 1e-9
    return key, min(1.0, conf + bonus / 2), label


@register_expert("android_ui")
class AndroidUIExpert:
    """Grounds descriptions on an Android observation's UI elements (see the module docstring)."""

    name = "android_ui"
    serves: ClassVar[frozenset[str]] = POINT_ACTIONS | frozenset({"long_press"})

    def __init__(self, spec: str = "") -> None:
        self.spec = spec
        _, options = split_spec(spec)
        self.min_score = take_float(options, "min_score", 0.6)
        reject_unknown("android_ui", options)

    def ground(self, request: GroundingRequest, observation: Observation) -> GroundingResult:
        """The box of the best-matching element, in screenshot pixels.

        Raises:
            GroundingError: the observation has no ``ui_elements``, the description is
                empty, or no element matches well enough.
        """
        info: dict[str, Any] = observation.info or {}
        if "ui_elements" not in info:
            raise GroundingError("android_ui expert: the observation has no info['ui_elements'] "
                                 "(an android environment with ui_elements on provides them)")
        elements = parse_elements(info["ui_elements"])
        phrases, words = quoted(request.description), content_words(request.description)
        if not phrases and not words and request.action != "type":
            raise GroundingError(f"android_ui expert: nothing to match in {request.description!r}")
        hints = widget_hints(request.description)
        ranked = sorted(((score(e, request, phrases, words, hints), e) for e in elements),
                        key=lambda item: -item[0][0])
        if not ranked or ranked[0][0][1] < self.min_score:
            best = f"; best was {ranked[0][0][2] or ranked[0][1].class_name!r}" if ranked else ""
            raise GroundingError(f"android_ui expert: no UI element matches {request.description!r}{best}")
        (_, conf, label), entry = ranked[0]
        runner_up = ranked[1][0][1] if len(ranked) > 1 else 0.0
        return GroundingResult(
            target=BoxTarget(left=entry.left, top=entry.top, width=entry.right - entry.left,
                             height=entry.bottom - entry.top),
            confidence=round(conf, 4), expert=self.name,
            details={"label": label, "class_name": entry.class_name, "runner_up": round(runner_up, 3),
                     "candidates": len(elements)})
