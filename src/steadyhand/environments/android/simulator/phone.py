"""The simulated phone: which app is in front, its screen stack, and what input does.

:class:`Phone` is what ``input``, ``am``, ``screencap`` and ``uiautomator`` act on.
It keeps one back stack of screens per running app (a screen is a plain dict the
app owns: its name, field texts, focus, scroll offsets, an open dialog), routes
taps and long presses through the view tree's hit test to the app's handlers,
scrolls the container under a swipe, types into the focused field, and handles
the system keys (HOME, BACK, ENTER, DEL, TAB).

Apps subclass :class:`App`: ``build`` returns the view tree of their top screen,
``handle`` runs a handler name (``toggle:global:wifi_on``) that a view carries.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import Any

from steadyhand.environments.android.simulator.state import DeviceState
from steadyhand.environments.android.simulator.ui import Node, dump_xml, hit, render_png, scroll_container_at

Screen = dict[str, Any]
"""One entry of an app's back stack; the app decides its keys (``name`` always)."""

STATUS_BAR = 80
TOOLBAR = 200
LAUNCHER = "com.android.launcher3"

#: Key names ``input keyevent`` accepts (with or without ``KEYCODE_``) and their codes.
KEYCODES: dict[str, int] = {
    "HOME": 3, "BACK": 4, "CALL": 5, "ENDCALL": 6, "DPAD_UP": 19, "DPAD_DOWN": 20, "DPAD_LEFT": 21,
    "DPAD_RIGHT": 22, "VOLUME_UP": 24, "VOLUME_DOWN": 25, "POWER": 26, "CAMERA": 27, "TAB": 61, "SPACE": 62,
    "ENTER": 66, "DEL": 67, "MENU": 82, "SEARCH": 84, "ESCAPE": 111, "FORWARD_DEL": 112, "MOVE_HOME": 122,
    "MOVE_END": 123, "VOLUME_MUTE": 164, "APP_SWITCH": 187, "SLEEP": 223, "WAKEUP": 224,
}


class App(ABC):
    """A simulated application.

    Attributes:
        package: its package name.
        label: the name under its launcher icon.
        activity: its launcher activity (relative to the package when it starts with ``.``).
    """

    package: str = ""
    label: str = ""
    activity: str = ".MainActivity"

    def root(self) -> Screen:
        """The screen the app opens on."""
        return {"name": "main"}

    @abstractmethod
    def build(self, phone: Phone, screen: Screen, area: tuple[int, int, int, int]) -> list[Node]:
        """The views of ``screen`` laid out in ``area`` (below the status bar)."""

    @abstractmethod
    def handle(self, phone: Phone, screen: Screen, handler: str) -> None:
        """Run ``handler`` (the ``on_tap``/``on_long`` of a view of ``screen``)."""

    def fields(self, screen: Screen) -> list[tuple[str, bool]]:
        """The text fields of ``screen`` in focus order: (resource id, multi-line)."""
        return []

    def full_activity(self) -> str:
        return self.package + self.activity if self.activity.startswith(".") else self.activity


class Phone:
    """The simulated phone's UI: apps, back stacks, focus and input (thread-safe)."""

    def __init__(self, state: DeviceState, apps: list[App]) -> None:
        self.state = state
        self.lock: threading.RLock = state.lock
        self.apps: dict[str, App] = {app.package: app for app in apps}
        self.stacks: dict[str, list[Screen]] = {}
        self.foreground = LAUNCHER
        self.toast = ""
        self.awake = True

    # --- app lifecycle -----------------------------------------------------------------------

    @property
    def screen(self) -> Screen:
        with self.lock:
            stack = self.stacks.setdefault(self.foreground, [self.apps[self.foreground].root()])
            return stack[-1]

    def start(self, package: str, *, fresh: bool = False) -> bool:
        """Bring ``package`` to the front (a new back stack when it was not running)."""
        with self.lock:
            if package not in self.apps:
                return False
            if fresh:
                self.stacks.pop(package, None)
            if package not in self.stacks:
                self.stacks[package] = [self.apps[package].root()]
            self.foreground = package
            self.toast = ""
            return True

    def force_stop(self, package: str) -> None:
        with self.lock:
            self.stacks.pop(package, None)
            if self.foreground == package:
                self.foreground = LAUNCHER

    def push(self, screen: Screen) -> None:
        with self.lock:
            self.stacks[self.foreground].append(screen)

    def pop(self) -> None:
        """Leave the top screen; leaving an app's last screen finishes it and shows the launcher."""
        with self.lock:
            stack = self.stacks.get(self.foreground, [])
            if self.foreground == LAUNCHER:
                return
            if len(stack) > 1:
                stack.pop()
            else:
                self.force_stop(self.foreground)

    def show_toast(self, text: str) -> None:
        self.toast = text

    def focused_activity(self) -> tuple[str, str]:
        """(package, fully qualified activity) of the app in front."""
        with self.lock:
            app = self.apps[self.foreground]
            activity = app.full_activity()
            return app.package, activity if "/" not in activity else activity.split("/", 1)[1]

    # --- the view tree --------------------------------------------------------------------------

    def tree(self) -> Node:
        """The whole screen's view tree (the status bar is drawn, not dumped, as on Android)."""
        with self.lock:
            width, height = self.state.width, self.state.height
            app = self.apps[self.foreground]
            root = Node("android.widget.FrameLayout", (0, 0, width, height), package=app.package, style="screen")
            screen = self.screen
            root.add(*app.build(self, screen, (0, STATUS_BAR, width, height)))
            focus = screen.get("focus")
            if focus:
                for node in _walk(root):
                    if node.rid == focus:
                        node.focused = True
            return root

    def screencap(self) -> bytes:
        with self.lock:
            root = self.tree()
            dialog = next((n for n in _walk(root) if n.style == "scrim"), None)
            return render_png(root, (self.state.width, self.state.height), clock=self._clock(), icons=self._icons(),
                              toast=self.toast, dim_below=dialog)

    def dump(self) -> str:
        with self.lock:
            return dump_xml(self.tree())

    def _clock(self) -> str:
        return "12:00" if self.state.get_setting("system", "time_12_24") == "24" else "12:00 PM"

    def _icons(self) -> tuple[str, ...]:
        flags = (("wifi", "wifi_on"), ("airplane", "airplane_mode_on"), ("bluetooth", "bluetooth_on"))
        return tuple(icon for icon, key in flags if self.state.flag("global", key))

    # --- input ------------------------------------------------------------------------------------

    def _run(self, handler: str) -> None:
        screen = self.screen
        verb, _, arg = handler.partition(":")
        if verb == "focus":
            screen["focus"] = arg
        elif verb == "up":
            self.pop()
        elif verb == "dismiss":
            screen.pop("dialog", None)
            screen.pop("menu", None)
        else:
            self.apps[self.foreground].handle(self, screen, handler)

    def tap(self, x: int, y: int) -> None:
        with self.lock:
            self.toast = ""
            node = hit(self.tree(), x, y)
            if node is not None and node.on_tap:
                self._run(node.on_tap)

    def long_press(self, x: int, y: int) -> None:
        """A long press runs the view's long-press handler, or its tap handler when it has none."""
        with self.lock:
            self.toast = ""
            root = self.tree()
            node = hit(root, x, y, long=True)
            if node is not None and node.on_long:
                self._run(node.on_long)
                return
            node = hit(root, x, y)
            if node is not None and node.on_tap:
                self._run(node.on_tap)

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int) -> None:
        """A short move is a tap (a long press when held 500 ms); a vertical move scrolls."""
        with self.lock:
            if abs(x2 - x1) < 24 and abs(y2 - y1) < 24:
                if duration_ms >= 500:
                    self.long_press(x1, y1)
                else:
                    self.tap(x1, y1)
                return
            self.toast = ""
            if abs(y2 - y1) < abs(x2 - x1):
                return  # no horizontal scrolling anywhere in the simulated apps
            root = self.tree()
            container = scroll_container_at(root, x1, y1)
            if container is None or container.scroll_key is None:
                return
            offsets = self.screen.setdefault("scroll", {})
            current = int(offsets.get(container.scroll_key, 0))
            content_bottom = max((c.bounds[3] for c in container.children), default=container.bounds[3])
            limit = current + max(0, content_bottom - container.bounds[3] + 40)
            offsets[container.scroll_key] = max(0, min(limit, current - (y2 - y1)))

    def type_text(self, text: str) -> None:
        """Type into the focused field of the app in front (nothing happens without focus)."""
        with self.lock:
            self.toast = ""
            screen = self.screen
            focus = screen.get("focus")
            if not focus:
                return
            texts = screen.setdefault("texts", {})
            texts[focus] = texts.get(focus, "") + text

    def key(self, code: int) -> None:
        """Press one key (``KEYCODES`` values); unknown codes do nothing."""
        with self.lock:
            self.toast = ""
            if code == KEYCODES["HOME"]:
                self.foreground = LAUNCHER
            elif code in (KEYCODES["BACK"], KEYCODES["ESCAPE"]):
                screen = self.screen
                if screen.get("dialog") is not None or screen.get("menu") is not None:
                    screen.pop("dialog", None)
                    screen.pop("menu", None)
                else:
                    self.pop()
            elif code in (KEYCODES["ENTER"], KEYCODES["TAB"]):
                self._enter(tab=code == KEYCODES["TAB"])
            elif code in (KEYCODES["DEL"], KEYCODES["FORWARD_DEL"]):
                screen = self.screen
                focus = screen.get("focus")
                texts = screen.setdefault("texts", {})
                if focus and texts.get(focus) and code == KEYCODES["DEL"]:
                    texts[focus] = texts[focus][:-1]
            elif code == KEYCODES["SLEEP"] or code == KEYCODES["POWER"]:
                self.awake = code == KEYCODES["POWER"] and not self.awake
            elif code == KEYCODES["WAKEUP"]:
                self.awake = True

    def _enter(self, *, tab: bool) -> None:
        """ENTER adds a line in a multi-line field, otherwise (and TAB always) moves to the next field."""
        screen = self.screen
        focus = screen.get("focus")
        fields = self.apps[self.foreground].fields(screen)
        ids = [rid for rid, _ in fields]
        if not focus or focus not in ids:
            return
        if not tab and dict(fields)[focus]:
            texts = screen.setdefault("texts", {})
            texts[focus] = texts.get(focus, "") + "\n"
            return
        position = ids.index(focus)
        screen["focus"] = ids[position + 1] if position + 1 < len(ids) else None


def _walk(node: Node) -> list[Node]:
    out = [node]
    for child in node.children:
        out.extend(_walk(child))
    return out


# --- layout helpers the apps share ----------------------------------------------------------------


def toolbar(package: str, area: tuple[int, int, int, int], title: str, *, up: bool, actions: list[Node] | None = None,
            rid_prefix: str = "") -> Node:
    """A top app bar: the "Navigate up" arrow (when ``up``), the title, action buttons at the right."""
    left, top, right, _ = area
    bar = Node("android.view.ViewGroup", (left, top, right, top + TOOLBAR), package=package, style="toolbar",
               rid=f"{rid_prefix}toolbar")
    if up:
        bar.add(Node("android.widget.ImageButton", (left + 20, top + 40, left + 140, top + 160), desc="Navigate up",
                     clickable=True, focusable=True, on_tap="up", style="button", text="<"))
    bar.add(Node("android.widget.TextView", (left + (170 if up else 50), top + 60, right - 300, top + 150),
                 text=title, style="title", font_size=60))
    for action in actions or []:
        bar.add(action)
    return bar


def text_row(package: str, top: int, width: int, title: str, summary: str = "", *, on_tap: str | None = None,
             on_long: str | None = None, rid: str = "", trailing: Node | None = None) -> Node:
    """A list row with a title, an optional summary line and an optional widget at the right."""
    height = 210 if summary else 170
    row = Node("android.widget.LinearLayout", (0, top, width, top + height), package=package, style="row",
               clickable=on_tap is not None, focusable=on_tap is not None, long_clickable=on_long is not None,
               on_tap=on_tap, on_long=on_long, rid=rid)
    text_right = width - (220 if trailing is not None else 60)
    row.add(Node("android.widget.TextView", (60, top + 40, text_right, top + 100), text=title, style="text",
                 rid="android:id/title"))
    if summary:
        row.add(Node("android.widget.TextView", (60, top + 115, text_right, top + 170), text=summary,
                     style="subtext", font_size=36, rid="android:id/summary"))
    if trailing is not None:
        row.add(trailing)
    return row


def scroll_list(package: str, area: tuple[int, int, int, int], rows: list[Node], *, key: str, screen: Screen,
                rid: str) -> Node:
    """A vertical scrolling list filling ``area``; ``rows`` are laid out from its top, shifted by the offset."""
    offset = int(screen.get("scroll", {}).get(key, 0))
    box = Node("androidx.recyclerview.widget.RecyclerView", area, package=package, scrollable=True,
               focusable=True, scroll_key=key, rid=rid)
    for row in rows:
        _shift(row, -offset)
        box.add(row)
    return box


def _shift(node: Node, dy: int) -> None:
    left, top, right, bottom = node.bounds
    node.bounds = (left, top + dy, right, bottom + dy)
    for child in node.children:
        _shift(child, dy)


def edit_field(package: str, bounds: tuple[int, int, int, int], rid: str, hint: str, screen: Screen,
               *, multiline: bool = False) -> Node:
    """An EditText showing the screen's text for ``rid``; tapping it focuses it."""
    text = screen.get("texts", {}).get(rid, "")
    return Node("android.widget.EditText", bounds, package=package, rid=rid, text=text, hint=hint, clickable=True,
                focusable=True, long_clickable=True, on_tap=f"focus:{rid}", style="edit",
                font_size=44 if not multiline else 40)


def dialog(package: str, width: int, height: int, title: str, message: str,
           buttons: list[tuple[str, str]]) -> list[Node]:
    """A modal dialog: a scrim (tapping it dismisses) and a box with a title, message and buttons."""
    scrim = Node("android.widget.FrameLayout", (0, 0, width, height), package=package, on_tap="dismiss",
                 style="scrim")
    top = height // 2 - 300
    box = Node("android.widget.LinearLayout", (90, top, width - 90, top + 600), package=package, style="dialog",
               rid="android:id/parentPanel")
    box.add(Node("android.widget.TextView", (150, top + 60, width - 150, top + 140), text=title, style="title",
                 font_size=54, rid="android:id/alertTitle"))
    box.add(Node("android.widget.TextView", (150, top + 180, width - 150, top + 260), text=message, style="subtext",
                 font_size=40, rid="android:id/message"))
    right = width - 140
    for i, (label, handler) in enumerate(reversed(buttons)):
        box.add(Node("android.widget.Button", (right - 260, top + 440, right, top + 560), text=label,
                     clickable=True, focusable=True, on_tap=handler, style="button", rid=f"android:id/button{i + 1}"))
        right -= 300
    return [scrim, box]
