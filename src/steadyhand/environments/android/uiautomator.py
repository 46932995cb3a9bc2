"""UI elements from ``uiautomator dump`` XML: parsing, the agent-facing list, its text form.

A dump is a ``<hierarchy>`` of ``<node>`` elements whose attributes are the
accessibility properties of each view (``text``, ``resource-id``, ``class``,
``content-desc``, the boolean flags, ``bounds="[l,t][r,b]"``). :func:`parse_dump`
keeps every node; :func:`screen_elements` keeps the ones an agent can see or act
on and numbers them: that number is the ``index`` the Android actions take, as in
AndroidWorld.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from pydantic import BaseModel, ConfigDict, Field

_BOUNDS = re.compile(r"\[(-?\d+),(-?\d+)\]\[(-?\d+),(-?\d+)\]")
_FLAGS = ("clickable", "long-clickable", "checkable", "checked", "focusable", "focused", "scrollable", "enabled",
          "selected", "password")


class UIDumpError(ValueError):
    """A ``uiautomator dump`` document that cannot be parsed (the message says where)."""


class UIElement(BaseModel):
    """One view of the screen, as uiautomator reports it.

    ``bounds`` are (left, top, right, bottom) in screen pixels; ``index`` is the
    element's number in the agent-facing list (None for elements not in it).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int | None = None
    text: str = ""
    content_desc: str = ""
    resource_id: str = ""
    class_name: str = ""
    package: str = ""
    bounds: tuple[int, int, int, int] = (0, 0, 0, 0)
    clickable: bool = False
    long_clickable: bool = False
    checkable: bool = False
    checked: bool = False
    focusable: bool = False
    focused: bool = False
    scrollable: bool = False
    enabled: bool = True
    selected: bool = False
    password: bool = False
    depth: int = Field(0, description="Nesting depth in the view tree (the root is 0).")

    @property
    def center(self) -> tuple[int, int]:
        left, top, right, bottom = self.bounds
        return (left + right) // 2, (top + bottom) // 2

    @property
    def area(self) -> int:
        left, top, right, bottom = self.bounds
        return max(0, right - left) * max(0, bottom - top)

    @property
    def editable(self) -> bool:
        return "EditText" in self.class_name

    @property
    def short_class(self) -> str:
        return self.class_name.rsplit(".", 1)[-1]

    @property
    def label(self) -> str:
        """The words that name it: its text, else its content description."""
        return self.text or self.content_desc

    def describe(self) -> str:
        """One line for prompts: ``[3] Switch "ON" id=... bounds=[l,t][r,b] clickable checked``."""
        parts = [f"[{self.index}]" if self.index is not None else "[-]", self.short_class or "View"]
        if self.text:
            parts.append(_quote(self.text))
        if self.content_desc and self.content_desc != self.text:
            parts.append(f"desc={_quote(self.content_desc)}")
        if self.resource_id:
            parts.append(f"id={self.resource_id}")
        left, top, right, bottom = self.bounds
        parts.append(f"bounds=[{left},{top}][{right},{bottom}]")
        flags = [name for name, on in (("clickable", self.clickable), ("long-clickable", self.long_clickable),
                                       ("editable", self.editable), ("scrollable", self.scrollable),
                                       ("checkable", self.checkable), ("checked", self.checked),
                                       ("focused", self.focused), ("disabled", not self.enabled)) if on]
        return " ".join(parts + flags)


def _quote(text: str) -> str:
    clipped = text if len(text) <= 80 else text[:77] + "..."
    return '"' + clipped.replace("\n", "\\n").replace('"', '\\"') + '"'


def parse_bounds(value: str) -> tuple[int, int, int, int]:
    """``"[l,t][r,b]"`` as a tuple.

    Raises:
        UIDumpError: not in that form.
    """
    match = _BOUNDS.fullmatch(value.strip())
    if match is None:
        raise UIDumpError(f"bad bounds {value!r}: expected [left,top][right,bottom]")
    left, top, right, bottom = (int(g) for g in match.groups())
    return left, top, right, bottom


def parse_dump(xml: str) -> list[UIElement]:
    """Every ``<node>`` of a dump, in document order (parents before children).

    Raises:
        UIDumpError: not XML, no ``<hierarchy>`` root, or a node with bad bounds.
    """
    start = xml.find("<?xml")
    text = xml[start:] if start > 0 else xml
    end = text.rfind("</hierarchy>")
    if end >= 0:  # some devices print a status line after the document
        text = text[:end + len("</hierarchy>")]
    try:
        root = ET.fromstring(text.encode("utf-8"))
    except ET.ParseError as exc:
        raise UIDumpError(f"the UI dump is not well-formed XML: {exc}") from exc
    if root.tag != "hierarchy":
        raise UIDumpError(f"the UI dump's root is <{root.tag}>, not <hierarchy>")
    out: list[UIElement] = []

    def walk(node: ET.Element, depth: int) -> None:
        for child in node:
            if child.tag != "node":
                continue
            attrs = child.attrib
            flags = {name.replace("-", "_"): attrs.get(name, "false") == "true" for name in _FLAGS}
            if "enabled" not in attrs:
                flags["enabled"] = True
            out.append(UIElement(text=attrs.get("text", ""), content_desc=attrs.get("content-desc", ""),
                                 resource_id=attrs.get("resource-id", ""), class_name=attrs.get("class", ""),
                                 package=attrs.get("package", ""),
                                 bounds=parse_bounds(attrs.get("bounds", "[0,0][0,0]")), depth=depth, **flags))
            walk(child, depth + 1)

    walk(root, 0)
    return out


def is_meaningful(element: UIElement) -> bool:
    """Whether an agent should see it: it shows on screen and has words or can be acted on."""
    if element.area == 0:
        return False
    return bool(element.text or element.content_desc or element.clickable or element.long_clickable
                or element.scrollable or element.editable or element.checkable)


def screen_elements(xml: str) -> list[UIElement]:
    """The agent-facing elements of a dump, numbered from 0 in document order.

    Raises:
        UIDumpError: the dump cannot be parsed.
    """
    kept = [e for e in parse_dump(xml) if is_meaningful(e)]
    return [e.model_copy(update={"index": i}) for i, e in enumerate(kept)]


def describe_elements(elements: list[UIElement]) -> str:
    """The element list as prompt text, one element per line."""
    return "\n".join(e.describe() for e in elements)
