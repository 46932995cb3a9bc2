"""Read the AT-SPI accessibility tree and print it as OSWorld's XML.

This file is a standalone script: it runs under the system interpreter
(``/usr/bin/python3``), which has Debian's ``python3-pyatspi``; steadyhand's own
interpreter may not. It imports nothing from steadyhand.

    /usr/bin/python3 atspi_dump.py tree       # prints <desktop-frame ...>...</desktop-frame>
    /usr/bin/python3 atspi_dump.py terminal   # prints the focused terminal's text as JSON

Element names are role names with spaces as dashes; states, attributes,
geometry, values and actions are namespaced attributes, text is the element
text: the form OSWorld's server produces, so OSWorld's tree tooling reads it.
Spreadsheet tables are never walked (LibreOffice exposes every cell), and the
walk stops at fixed depth, width and call limits.
"""

from __future__ import annotations

import contextlib
import json
import sys
import xml.etree.ElementTree as ET
from typing import Any

NS = {
    "st": "https://accessibility.ubuntu.example.org/ns/state",
    "attr": "https://accessibility.ubuntu.example.org/ns/attributes",
    "cp": "https://accessibility.ubuntu.example.org/ns/component",
    "doc": "https://accessibility.ubuntu.example.org/ns/document",
    "docattr": "https://accessibility.ubuntu.example.org/ns/document/attributes",
    "txt": "https://accessibility.ubuntu.example.org/ns/text",
    "val": "https://accessibility.ubuntu.example.org/ns/value",
    "act": "https://accessibility.ubuntu.example.org/ns/action",
}
MAX_DEPTH = 50
MAX_WIDTH = 1024
MAX_CALLS = 5000
MAX_TEXT = 10_000


class _Walker:
    def __init__(self, pyatspi: Any) -> None:
        self.pyatspi = pyatspi
        self.calls = 0

    def _states(self, node: Any, attrib: dict[str, str]) -> None:
        for state in node.getState().get_states():
            name = self.pyatspi.StateType._enum_lookup.get(int(state), "")
            name = name.split("_", 1)[1].lower() if "_" in name else ""
            if name:
                attrib[f"{{{NS['st']}}}{name}"] = "true"

    def _interfaces(self, node: Any, attrib: dict[str, str]) -> str:
        st = NS["st"]
        if attrib.get(f"{{{st}}}visible") == "true" and attrib.get(f"{{{st}}}showing") == "true":
            try:
                x, y, w, h = node.queryComponent().getExtents(self.pyatspi.XY_SCREEN)
                attrib[f"{{{NS['cp']}}}screencoord"] = f"({x}, {y})"
                attrib[f"{{{NS['cp']}}}size"] = f"({w}, {h})"
            except NotImplementedError:
                pass
        text = ""
        try:
            obj = node.queryText()
            text = obj.getText(0, min(obj.characterCount, MAX_TEXT)).replace("\ufffc", "").replace("\ufffd", "")
        except NotImplementedError:
            pass
        for flag, query in (("image", "queryImage"), ("selection", "querySelection")):
            try:
                getattr(node, query)()
                attrib[flag] = "true"
            except NotImplementedError:
                pass
        try:
            value = node.queryValue()
            for key, attr in (("value", "currentValue"), ("min", "minimumValue"), ("max", "maximumValue"),
                              ("step", "minimumIncrement")):
                with contextlib.suppress(Exception):
                    attrib[f"{{{NS['val']}}}{key}"] = str(getattr(value, attr))
        except NotImplementedError:
            pass
        try:
            action = node.queryAction()
            for i in range(action.nActions):
                name = action.getName(i).replace(" ", "-")
                attrib[f"{{{NS['act']}}}{name}_desc"] = action.getDescription(i) or ""
                attrib[f"{{{NS['act']}}}{name}_kb"] = action.getKeyBinding(i) or ""
        except NotImplementedError:
            pass
        return text

    def node(self, node: Any, depth: int, in_spreadsheet: bool = False) -> ET.Element:
        self.calls += 1
        attrib: dict[str, str] = {"name": node.name or ""}
        self._states(node, attrib)
        try:
            for key, value in node.get_attributes().items():
                if key:
                    attrib[f"{{{NS['attr']}}}{key}"] = value
        except Exception:
            pass
        text = self._interfaces(node, attrib)
        raw_role = node.getRoleName().strip()
        role = (raw_role or "unknown").replace(" ", "-")
        in_spreadsheet = in_spreadsheet or raw_role == "document spreadsheet"
        element = ET.Element(role, attrib)
        if text:
            element.text = text
        if depth >= MAX_DEPTH or (in_spreadsheet and role == "table"):
            return element  # never walk spreadsheet cells
        for index, child in enumerate(node):
            if index >= MAX_WIDTH or self.calls >= MAX_CALLS:
                break
            if child is None:
                continue
            try:
                element.append(self.node(child, depth + 1, in_spreadsheet))
            except Exception:  # an application went away mid-walk
                continue
        return element


def tree(pyatspi: Any) -> str:
    """The whole desktop as an XML string."""
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)
    desktop = pyatspi.Registry.getDesktop(0)
    root = ET.Element("desktop-frame")  # the serializer declares every namespace used on the root
    walker = _Walker(pyatspi)
    for app in desktop:
        if app is None:
            continue
        try:
            root.append(walker.node(app, 1))
        except Exception:
            continue
    return ET.tostring(root, encoding="unicode")


def terminal(pyatspi: Any) -> str | None:
    """Text of the focused terminal widget in the active window, or None."""
    desktop = pyatspi.Registry.getDesktop(0)
    found: list[str] = []

    def visit(node: Any, depth: int, active: bool) -> None:
        if depth > 30 or node is None:
            return
        states = node.getState()
        role = node.getRoleName()
        if role == "frame":
            active = states.contains(pyatspi.STATE_ACTIVE)
        if role == "terminal" and active:
            text = node.queryText()
            found.append(text.getText(0, text.characterCount).rstrip())
            return
        for child in node:
            visit(child, depth + 1, active)

    for app in desktop:
        try:
            visit(app, 1, False)
        except Exception:
            continue
    return found[0] if len(found) == 1 else None


def main(argv: list[str]) -> int:
    mode = argv[1] if len(argv) > 1 else "tree"
    try:
        import pyatspi
    except ImportError as exc:
        print(f"pyatspi is not available to {sys.executable}: {exc}", file=sys.stderr)
        return 3
    if mode == "tree":
        sys.stdout.write(tree(pyatspi))
    elif mode == "terminal":
        sys.stdout.write(json.dumps({"output": terminal(pyatspi)}))
    else:
        print(f"unknown mode {mode!r}; use tree or terminal", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
