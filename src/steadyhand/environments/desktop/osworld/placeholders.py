"""``{SCREEN_WIDTH_HALF}``-style placeholders in task files, resolved against the desktop.

OSWorld substitutes ``{CLIENT_PASSWORD}``, ``{SCREEN_WIDTH}``, ``{SCREEN_HEIGHT}``,
``{SCREEN_WIDTH_HALF}`` and ``{SCREEN_HEIGHT_HALF}`` in setup commands. steadyhand also
knows ``{HOME}`` (the desktop user's home directory), so one task file works on desktops
whose home is not ``/home/user``. Only these exact names are replaced: other braces (an
``awk '{print $5}'``) are left alone. Values are looked up from the desktop only when a
placeholder needs them.
"""

from __future__ import annotations

import re
from typing import Any

from steadyhand.environments.desktop.osworld.context import ControlClient

NAMES = ("CLIENT_PASSWORD", "SCREEN_WIDTH_HALF", "SCREEN_HEIGHT_HALF", "SCREEN_WIDTH", "SCREEN_HEIGHT", "HOME")
_PATTERN = re.compile(r"\{(" + "|".join(NAMES) + r")\}")


def placeholders_in(value: Any) -> set[str]:
    """The placeholder names used anywhere in ``value`` (strings, lists, dicts)."""
    found: set[str] = set()
    if isinstance(value, str):
        found.update(_PATTERN.findall(value))
    elif isinstance(value, list):
        for item in value:
            found |= placeholders_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            found |= placeholders_in(item)
    return found


class Placeholders:
    """Substitutes placeholders, asking the desktop for screen size and home on first use."""

    def __init__(self, client: ControlClient, *, password: str) -> None:
        self._client = client
        self._values: dict[str, str] = {"CLIENT_PASSWORD": password}

    def _value(self, name: str) -> str:
        if name not in self._values:
            if name.startswith("SCREEN_"):
                width, height = self._client.screen_size()
                self._values.update(SCREEN_WIDTH=str(width), SCREEN_HEIGHT=str(height),
                                    SCREEN_WIDTH_HALF=str(width // 2), SCREEN_HEIGHT_HALF=str(height // 2))
            elif name == "HOME":
                result = self._client.execute(["sh", "-c", 'printf %s "$HOME"'])
                home = str(result.get("output") or "").strip()
                if not home:
                    raise RuntimeError(f"the desktop did not report its home directory: {result}")
                self._values["HOME"] = home
        return self._values[name]

    def substitute(self, value: Any) -> Any:
        """``value`` with every placeholder replaced, recursing into lists and dicts."""
        if isinstance(value, str):
            return _PATTERN.sub(lambda m: self._value(m.group(1)), value)
        if isinstance(value, list):
            return [self.substitute(item) for item in value]
        if isinstance(value, dict):
            return {key: self.substitute(item) for key, item in value.items()}
        return value
