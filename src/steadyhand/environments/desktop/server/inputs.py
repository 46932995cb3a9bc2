"""Run validated pyautogui code in the server process (which is inside the desktop).

The code string is checked by :func:`~steadyhand.environments.desktop.actions.validate_pyautogui`
and then executed on the X thread with a namespace that offers only a facade of
pyautogui (the allow-listed functions), ``time.sleep`` (capped) and a few
builtins. No new interpreter is started per action.

Typing goes through :func:`type_text`: plain ASCII goes to pyautogui; text with
characters the X keymap cannot produce reliably (anything non-ASCII, and ``<``,
which pyautogui types as ``>``) is put on the clipboard with ``xclip`` and pasted
(shift+Insert from PRIMARY in terminals, ctrl+v elsewhere).
"""

from __future__ import annotations

import builtins as _builtins
import shutil
import subprocess
import time
from collections.abc import Callable
from typing import Any

from steadyhand.environments.desktop.actions import (
    MAX_LOOP_ITERATIONS,
    MAX_SLEEP_S,
    PYAUTOGUI_FUNCTIONS,
    SAFE_BUILTINS,
    ActionCodeError,
    validate_pyautogui,
)
from steadyhand.environments.desktop.server.screen import XThread

# pyautogui types '<' as '>' under X (the keymap's 'less' key needs no shift); it and non-ASCII are pasted.
_PLAIN = (frozenset(chr(c) for c in range(32, 127)) - {"<"}) | {"\n", "\t"}
_TERMINAL_CLASSES = ("xterm", "uxterm", "urxvt", "terminal", "konsole", "terminator", "kitty", "alacritty")


class _Budget:
    def __init__(self) -> None:
        self.slept = 0.0
        self.iterations = 0

    def sleep(self, seconds: float) -> None:
        seconds = max(0.0, float(seconds))
        if self.slept + seconds > MAX_SLEEP_S:
            raise ActionCodeError(f"action code may sleep at most {MAX_SLEEP_S:g} s in total")
        self.slept += seconds
        time.sleep(seconds)

    def range(self, *args: int) -> range:
        r = range(*args)
        self.iterations += len(r)
        if self.iterations > MAX_LOOP_ITERATIONS:
            raise ActionCodeError(f"action code may loop at most {MAX_LOOP_ITERATIONS} times")
        return r


class _Namespace:
    """An object exposing a fixed set of attributes (a module stand-in)."""

    def __init__(self, name: str, members: dict[str, Callable[..., Any]]) -> None:
        self._name = name
        self.__dict__.update(members)

    def __repr__(self) -> str:
        return f"<{self._name}>"


class ActionRunner:
    """Executes pyautogui code strings and types text, on the server's X thread."""

    def __init__(self, x: XThread) -> None:
        self.x = x
        self._keys: frozenset[str] | None = None

    # --- keys and text -----------------------------------------------------------------

    def _check_keys(self, *keys: Any) -> None:
        pg = self.x.pyautogui()
        if self._keys is None:
            self._keys = frozenset(pg.KEYBOARD_KEYS)
        flat: list[Any] = []
        for key in keys:
            flat.extend(key if isinstance(key, list | tuple) else [key])
        for key in flat:
            if not isinstance(key, str) or (key.lower() not in self._keys and key not in self._keys):
                raise ActionCodeError(f"unknown key {key!r}; use pyautogui key names such as 'enter', 'ctrl', 'a'")

    def _active_window_class(self) -> str:
        """WM_CLASS of the active window, lower-cased ("" when unknown), over pyautogui's X connection."""
        try:
            from Xlib import X

            display = self.x.pyautogui().platformModule._display
            root = display.screen().root
            prop = root.get_full_property(display.intern_atom("_NET_ACTIVE_WINDOW"), X.AnyPropertyType)
            window = display.create_resource_object("window", int(prop.value[0])) if prop and prop.value else None
            if window is None:
                window = display.get_input_focus().focus
            for _ in range(10):  # walk up to the top-level window that carries WM_CLASS
                if window is None or isinstance(window, int) or window == root:
                    break
                names = window.get_wm_class()
                if names:
                    return " ".join(names).lower()
                window = window.query_tree().parent
        except Exception:  # no window manager, a window that just closed
            return ""
        return ""

    def _paste(self, text: str) -> None:
        if shutil.which("xclip") is None:
            raise ActionCodeError("typing non-ASCII text or '<'/'>' needs xclip inside the desktop")
        data = text.encode("utf-8")
        for selection in ("clipboard", "primary"):
            # xclip forks and keeps serving the selection until another owner takes it.
            subprocess.run(["xclip", "-selection", selection, "-i"], input=data, check=True, timeout=5,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pg = self.x.pyautogui()
        window = self._active_window_class()
        if any(name in window for name in _TERMINAL_CLASSES):
            pg.hotkey("shift", "insert")  # terminals paste PRIMARY with shift+insert
        else:
            pg.hotkey("ctrl", "v")
        time.sleep(0.05)  # let the application fetch the selection before it changes

    def type_text(self, text: str, interval: float = 0.0) -> None:
        """Type ``text`` into the focused window; special characters go through the clipboard."""
        pg = self.x.pyautogui()
        if all(ch in _PLAIN for ch in text):
            pg.write(text, interval=interval)
            return
        # Newlines and tabs are keys (pasting them into a spreadsheet opens an import dialog).
        chunk = ""
        for ch in text:
            if ch in "\n\t":
                if chunk:
                    self._type_chunk(chunk, interval)
                    chunk = ""
                pg.press("enter" if ch == "\n" else "tab")
            else:
                chunk += ch
        if chunk:
            self._type_chunk(chunk, interval)

    def _type_chunk(self, chunk: str, interval: float) -> None:
        if all(ch in _PLAIN for ch in chunk):
            self.x.pyautogui().write(chunk, interval=interval)
        else:
            self._paste(chunk)

    # --- the pyautogui facade ------------------------------------------------------------

    def _facade(self, budget: _Budget) -> _Namespace:
        pg = self.x.pyautogui()
        members: dict[str, Callable[..., Any]] = {name: getattr(pg, name) for name in PYAUTOGUI_FUNCTIONS}

        def write(message: Any, interval: float = 0.0, *args: Any, **kwargs: Any) -> None:
            if isinstance(message, list | tuple):  # typewrite(['a', 'enter']) presses keys
                self._check_keys(*message)
                for key in message:
                    pg.press(key)
                    budget.sleep(interval)
                return
            self.type_text(str(message), min(float(interval), 1.0))

        def keyed(fn: Callable[..., Any]) -> Callable[..., Any]:
            def run(*keys: Any, **kwargs: Any) -> Any:
                self._check_keys(*keys)
                return fn(*keys, **kwargs)
            return run

        members.update(
            write=write, typewrite=write, sleep=budget.sleep,
            press=keyed(pg.press), keyDown=keyed(pg.keyDown), keyUp=keyed(pg.keyUp), hotkey=keyed(pg.hotkey),
        )
        return _Namespace("pyautogui", members)

    def run_code(self, code: str) -> None:
        """Validate and execute ``code`` on the X thread.

        Raises:
            ActionCodeError: the code is malformed, outside the allowed subset, or
                breaks a limit while running.
        """
        tree = validate_pyautogui(code)
        compiled = compile(tree, "<action>", "exec")

        def execute() -> None:
            budget = _Budget()
            builtins: dict[str, Any] = {name: getattr(_builtins, name) for name in SAFE_BUILTINS}
            builtins["range"] = budget.range
            modules = {"pyautogui": self._facade(budget), "time": _Namespace("time", {"sleep": budget.sleep})}

            def importer(name: str, *args: Any, **kwargs: Any) -> Any:
                if name in modules:  # `import pyautogui` binds the facade
                    return modules[name]
                raise ActionCodeError(f"import of {name!r} is not allowed")

            builtins["__import__"] = importer
            namespace: dict[str, Any] = {"__builtins__": builtins, **modules}
            try:
                exec(compiled, namespace)  # validated subset, inside the desktop sandbox
            except ActionCodeError:
                raise
            except Exception as exc:  # a bad argument to a pyautogui call
                raise ActionCodeError(f"{type(exc).__name__}: {exc}") from exc

        self.x.call(execute)

