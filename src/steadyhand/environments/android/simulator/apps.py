"""The simulated apps: a launcher, Settings, a notes app and a contacts app.

Each reads and writes the device state that ``adb shell`` sees:

* **Settings** (``com.android.settings``) — toggles and choices stored in the
  ``settings`` tables (Wi-Fi, airplane mode, Bluetooth, dark theme, screen timeout,
  24-hour time...); its main list is longer than the screen, so some pages need a scroll.
* **Notes** (``com.example.notes``) — one file per note, ``/sdcard/Notes/<title>.txt``;
  a note is created from the "New note" button, saved with "Save", deleted through
  a long press menu and a confirmation dialog.
* **Contacts** (``com.android.contacts``) — rows of the contacts provider
  (``content://com.android.contacts/data/phones``); a contact's page shows its number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from steadyhand.environments.android.simulator.phone import (
    LAUNCHER,
    TOOLBAR,
    App,
    Phone,
    Screen,
    dialog,
    edit_field,
    scroll_list,
    text_row,
    toolbar,
)
from steadyhand.environments.android.simulator.state import DeviceState
from steadyhand.environments.android.simulator.ui import Node

NOTES_DIR = "/sdcard/Notes"
Area = tuple[int, int, int, int]


class Launcher(App):
    """The home screen: a clock and one icon per app."""

    package = LAUNCHER
    label = "Launcher"
    activity = ".uioverrides.QuickstepLauncher"

    def __init__(self, apps: list[App]) -> None:
        self.apps = apps

    def build(self, phone: Phone, screen: Screen, area: Area) -> list[Node]:
        left, top, right, bottom = area
        home = Node("android.view.ViewGroup", area, package=self.package, rid="com.android.launcher3:id/workspace")
        clock = "12:00" if phone.state.get_setting("system", "time_12_24") == "24" else "12:00 PM"
        home.add(Node("android.widget.TextView", (left + 80, top + 200, right - 80, top + 380), text=clock,
                      style="title", font_size=150, rid="com.android.launcher3:id/clock"))
        cell = (right - left) // 4
        for i, app in enumerate(self.apps):
            x = left + cell * (i % 4)
            y = bottom - 700 + 300 * (i // 4)
            home.add(Node("android.widget.TextView", (x, y, x + cell, y + 260), text=app.label, desc=app.label,
                          clickable=True, focusable=True, long_clickable=True, on_tap=f"launch:{app.package}",
                          style="appicon"))
        return [home]

    def handle(self, phone: Phone, screen: Screen, handler: str) -> None:
        verb, _, arg = handler.partition(":")
        if verb == "launch":
            phone.start(arg)


# --- Settings ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One Settings row.

    kind: ``link`` (opens ``target``), ``toggle`` (flips ``namespace/key`` between
    ``on`` and ``off``), ``choice`` (opens a page of ``choices`` for ``namespace/key``),
    ``info`` (shows ``summary``, does nothing).
    """

    title: str
    kind: str = "info"
    summary: str | Callable[[DeviceState], str] = ""
    target: str = ""
    namespace: str = ""
    key: str = ""
    on: str = "1"
    off: str = "0"
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Page:
    title: str
    rows: list[Row] = field(default_factory=list)


TIMEOUTS = (("15 seconds", "15000"), ("30 seconds", "30000"), ("1 minute", "60000"), ("2 minutes", "120000"),
            ("5 minutes", "300000"), ("10 minutes", "600000"), ("30 minutes", "1800000"))


def _on_off(namespace: str, key: str, on: str = "1") -> Callable[[DeviceState], str]:
    return lambda s: "On" if s.get_setting(namespace, key) == on else "Off"


def _timeout_summary(state: DeviceState) -> str:
    value = state.get_setting("system", "screen_off_timeout")
    label = next((name for name, v in TIMEOUTS if v == value), f"{value} ms")
    return f"After {label} of inactivity"


def _stub(title: str) -> Page:
    return Page(title, [Row("Nothing to change here", summary="This page is not part of the simulated device")])


SETTINGS_PAGES: dict[str, Page] = {
    "main": Page("Settings", [
        Row("Network & internet", "link", "Wi-Fi, airplane mode, mobile data", "network"),
        Row("Connected devices", "link", "Bluetooth, pairing", "connected"),
        Row("Apps", "link", "Recent apps, default apps", "apps"),
        Row("Notifications", "link", "Notification history, conversations", "notifications"),
        Row("Battery", "link", "100%", "battery"),
        Row("Storage", "link", "34% used - 84 GB free", "storage"),
        Row("Sound & vibration", "link", "Volume, haptics, Do Not Disturb", "sound"),
        Row("Display", "link", "Dark theme, screen timeout, brightness", "display"),
        Row("Wallpaper & style", "link", "Colors, themed icons", "wallpaper"),
        Row("Accessibility", "link", "Display, interaction, audio", "accessibility"),
        Row("Security & privacy", "link", "App security, device lock", "security"),
        Row("Location", "link", "On - 3 apps have access", "location"),
        Row("System", "link", "Languages, gestures, date & time", "system"),
        Row("About phone", "link", "Pixel 6", "about"),
    ]),
    "network": Page("Network & internet", [
        Row("Wi-Fi", "toggle", namespace="global", key="wifi_on"),
        Row("Airplane mode", "toggle", namespace="global", key="airplane_mode_on"),
        Row("Mobile data", "toggle", namespace="global", key="mobile_data"),
        Row("Hotspot & tethering", summary="Off"),
    ]),
    "connected": Page("Connected devices", [
        Row("Bluetooth", "toggle", namespace="global", key="bluetooth_on"),
        Row("Pair new device", summary="No devices nearby"),
    ]),
    "display": Page("Display", [
        Row("Brightness level", summary="50%"),
        Row("Dark theme", "toggle", namespace="secure", key="ui_night_mode", on="2", off="1"),
        Row("Screen timeout", "choice", _timeout_summary, "timeout", "system", "screen_off_timeout",
            choices=TIMEOUTS),
        Row("Font size", summary="Default"),
    ]),
    "system": Page("System", [
        Row("Languages", summary="English (United States)"),
        Row("Gestures", summary="Navigation, quick gestures"),
        Row("Date & time", "link", "GMT+00:00", "datetime"),
    ]),
    "datetime": Page("Date & time", [
        Row("Set time automatically", "toggle", namespace="global", key="auto_time"),
        Row("Use 24-hour format", "toggle", namespace="system", key="time_12_24", on="24", off="12"),
    ]),
    "about": Page("About phone", [
        Row("Device name", summary=lambda s: s.get_setting("global", "device_name") or ""),
        Row("Model", summary="Pixel 6"),
        Row("Android version", summary=lambda s: s.props.get("ro.build.version.release", "")),
        Row("Build number", summary="SH1A.240101.001"),
    ]),
    **{name: _stub(title) for name, title in (
        ("apps", "Apps"), ("notifications", "Notifications"), ("battery", "Battery"), ("storage", "Storage"),
        ("sound", "Sound & vibration"), ("wallpaper", "Wallpaper & style"), ("accessibility", "Accessibility"),
        ("security", "Security & privacy"), ("location", "Location"))},
}


class SettingsApp(App):
    """Android's Settings, as pages of rows backed by the ``settings`` tables."""

    package = "com.android.settings"
    label = "Settings"
    activity = ".Settings"

    def build(self, phone: Phone, screen: Screen, area: Area) -> list[Node]:
        name = screen["name"]
        width = area[2]
        if name == "choose":
            row = self._row(screen["page"], screen["row"])
            page = Page(row.title, [])
        else:
            page = SETTINGS_PAGES[name]
        bar = toolbar(self.package, area, page.title, up=name != "main", rid_prefix="com.android.settings:id/")
        top = area[1] + TOOLBAR
        rows: list[Node] = []
        if name == "choose":
            current = phone.state.get_setting(row.namespace, row.key)
            for i, (label, value) in enumerate(row.choices):
                radio = Node("android.widget.RadioButton", (width - 160, top + 50, width - 60, top + 120),
                             checkable=True, checked=value == current, style="radio")
                rows.append(text_row(self.package, top, width, label, on_tap=f"choose:{i}", trailing=radio))
                top = rows[-1].bounds[3]
        for i, item in enumerate(page.rows):
            summary = item.summary(phone.state) if callable(item.summary) else item.summary
            trailing = None
            handler: str | None = f"row:{i}" if item.kind != "info" else None
            if item.kind == "toggle":
                checked = phone.state.get_setting(item.namespace, item.key) == item.on
                trailing = Node("android.widget.Switch", (width - 200, top + 45, width - 50, top + 125),
                                checkable=True, checked=checked, focusable=True, style="switch",
                                rid="android:id/switch_widget", text="ON" if checked else "OFF")
            rows.append(text_row(self.package, top, width, item.title, summary, on_tap=handler, trailing=trailing))
            top = rows[-1].bounds[3]
        body = (area[0], area[1] + TOOLBAR, area[2], area[3])
        return [bar, scroll_list(self.package, body, rows, key="list", screen=screen,
                                 rid="com.android.settings:id/recycler_view")]

    @staticmethod
    def _row(page: str, index: int) -> Row:
        return SETTINGS_PAGES[page].rows[index]

    def handle(self, phone: Phone, screen: Screen, handler: str) -> None:
        verb, _, arg = handler.partition(":")
        state = phone.state
        if verb == "row":
            row = self._row(screen["name"], int(arg))
            if row.kind == "link":
                phone.push({"name": row.target})
            elif row.kind == "toggle":
                on = state.get_setting(row.namespace, row.key) == row.on
                state.put_setting(row.namespace, row.key, row.off if on else row.on)
            elif row.kind == "choice":
                phone.push({"name": "choose", "page": screen["name"], "row": int(arg)})
        elif verb == "choose":
            row = self._row(screen["page"], screen["row"])
            state.put_setting(row.namespace, row.key, row.choices[int(arg)][1])
            phone.pop()


# --- Notes ---------------------------------------------------------------------------------------------


class NotesApp(App):
    """A notes app storing each note as ``/sdcard/Notes/<title>.txt``."""

    package = "com.example.notes"
    label = "Notes"
    activity = ".NotesActivity"
    title_id = "com.example.notes:id/title"
    body_id = "com.example.notes:id/body"

    def titles(self, state: DeviceState) -> list[str]:
        try:
            entries = state.list_dir(NOTES_DIR)
        except FileNotFoundError:
            return []
        return [name[:-4] for name, is_dir, _ in entries if not is_dir and name.endswith(".txt")]

    def fields(self, screen: Screen) -> list[tuple[str, bool]]:
        return [(self.title_id, False), (self.body_id, True)] if screen["name"] == "editor" else []

    def build(self, phone: Phone, screen: Screen, area: Area) -> list[Node]:
        left, top, width, bottom = area
        if screen["name"] == "editor":
            save = Node("android.widget.Button", (width - 280, top + 50, width - 40, top + 150), text="Save",
                        desc="Save", clickable=True, focusable=True, on_tap="save", style="button",
                        rid="com.example.notes:id/save")
            bar = toolbar(self.package, area, "Edit note" if screen.get("original") else "New note", up=True,
                          actions=[save])
            y = top + TOOLBAR + 40
            return [bar,
                    edit_field(self.package, (60, y, width - 60, y + 140), self.title_id, "Title", screen),
                    edit_field(self.package, (60, y + 180, width - 60, bottom - 200), self.body_id, "Note", screen,
                               multiline=True)]
        bar = toolbar(self.package, area, "Notes", up=False)
        y = top + TOOLBAR
        rows = []
        for title in self.titles(phone.state):
            rows.append(text_row(self.package, y, width, title, on_tap=f"open:{title}", on_long=f"menu:{title}",
                                 rid="com.example.notes:id/note"))
            y = rows[-1].bounds[3]
        nodes = [bar, scroll_list(self.package, (left, top + TOOLBAR, width, bottom), rows, key="notes",
                                  screen=screen, rid="com.example.notes:id/list")]
        if not rows:
            nodes.append(Node("android.widget.TextView", (60, top + TOOLBAR + 80, width - 60, top + TOOLBAR + 160),
                              text="No notes yet", style="subtext", package=self.package,
                              rid="com.example.notes:id/empty"))
        nodes.append(Node("android.widget.ImageButton", (width - 260, bottom - 300, width - 80, bottom - 120),
                          desc="New note", clickable=True, focusable=True, on_tap="new", style="fab",
                          package=self.package, rid="com.example.notes:id/fab"))
        menu = screen.get("menu")
        if menu is not None:
            anchor = top + TOOLBAR + 170 * (self.titles(phone.state).index(menu) + 1) if menu in self.titles(
                phone.state) else top + 600
            anchor = min(anchor, bottom - 400)
            nodes.append(Node("android.widget.FrameLayout", (0, 0, width, bottom), package=self.package,
                              on_tap="dismiss"))
            popup = Node("android.widget.ListView", (width - 560, anchor, width - 60, anchor + 320),
                         package=self.package, style="menu")
            for i, (label, verb) in enumerate((("Open", "menu_open"), ("Delete", "menu_delete"))):
                y0 = anchor + 20 + 140 * i
                popup.add(Node("android.widget.TextView", (width - 540, y0, width - 80, y0 + 140), text=label,
                               clickable=True, focusable=True, on_tap=verb, style="menuitem",
                               rid="android:id/title"))
            nodes.append(popup)
        if screen.get("dialog") is not None:
            nodes.extend(dialog(self.package, width, bottom, "Delete note?",
                                f'"{screen["dialog"]}" will be deleted.',
                                [("Cancel", "dismiss"), ("Delete", "confirm_delete")]))
        return nodes

    def handle(self, phone: Phone, screen: Screen, handler: str) -> None:
        verb, _, arg = handler.partition(":")
        state = phone.state
        if verb == "new":
            phone.push({"name": "editor", "texts": {}, "focus": self.title_id, "original": None})
        elif verb in ("open", "menu_open"):
            title = arg if verb == "open" else screen.pop("menu", "")
            body = state.read_file(f"{NOTES_DIR}/{title}.txt").decode("utf-8", "replace")
            phone.push({"name": "editor", "texts": {self.title_id: title, self.body_id: body}, "original": title})
        elif verb == "menu":
            screen["menu"] = arg
        elif verb == "menu_delete":
            screen["dialog"] = screen.pop("menu", "")
        elif verb == "confirm_delete":
            title = screen.pop("dialog", "")
            if state.is_file(f"{NOTES_DIR}/{title}.txt"):
                state.remove(f"{NOTES_DIR}/{title}.txt")
            phone.show_toast("Note deleted")
        elif verb == "save":
            self._save(phone, screen)

    def _save(self, phone: Phone, screen: Screen) -> None:
        texts = screen.get("texts", {})
        title = texts.get(self.title_id, "").strip()
        if not title or "/" in title or title in (".", ".."):
            phone.show_toast("Enter a valid title")
            return
        state = phone.state
        state.make_dirs(NOTES_DIR)
        original = screen.get("original")
        if original and original != title and state.is_file(f"{NOTES_DIR}/{original}.txt"):
            state.remove(f"{NOTES_DIR}/{original}.txt")
        state.write_file(f"{NOTES_DIR}/{title}.txt", texts.get(self.body_id, "").encode("utf-8"))
        phone.pop()
        phone.show_toast("Saved")


# --- Contacts ------------------------------------------------------------------------------------------


class ContactsApp(App):
    """A contacts app over the simulated contacts provider."""

    package = "com.android.contacts"
    label = "Contacts"
    activity = ".activities.PeopleActivity"
    first_id = "com.android.contacts:id/first_name"
    last_id = "com.android.contacts:id/last_name"
    phone_id = "com.android.contacts:id/phone"

    def fields(self, screen: Screen) -> list[tuple[str, bool]]:
        if screen["name"] != "create":
            return []
        return [(self.first_id, False), (self.last_id, False), (self.phone_id, False)]

    def build(self, phone: Phone, screen: Screen, area: Area) -> list[Node]:
        left, top, width, bottom = area
        name = screen["name"]
        if name == "create":
            save = Node("android.widget.Button", (width - 280, top + 50, width - 40, top + 150), text="Save",
                        desc="Save", clickable=True, focusable=True, on_tap="save", style="button",
                        rid="com.android.contacts:id/editor_menu_save_button")
            y = top + TOOLBAR + 40
            return [toolbar(self.package, area, "Create contact", up=True, actions=[save]),
                    edit_field(self.package, (60, y, width - 60, y + 140), self.first_id, "First name", screen),
                    edit_field(self.package, (60, y + 180, width - 60, y + 320), self.last_id, "Last name", screen),
                    edit_field(self.package, (60, y + 360, width - 60, y + 500), self.phone_id, "Phone", screen)]
        if name == "details":
            contact = next((c for c in phone.state.contacts if c.id == screen["id"]), None)
            if contact is None:
                return [toolbar(self.package, area, "Contact", up=True)]
            y = top + TOOLBAR + 60
            return [toolbar(self.package, area, "", up=True),
                    Node("android.widget.TextView", (60, y, width - 60, y + 120), text=contact.display_name,
                         style="title", font_size=72, package=self.package,
                         rid="com.android.contacts:id/large_title"),
                    text_row(self.package, y + 200, width, contact.number, "Mobile",
                             rid="com.android.contacts:id/phone_row")]
        bar = toolbar(self.package, area, "Contacts", up=False)
        y = top + TOOLBAR
        rows = []
        for contact in phone.state.sorted_contacts():
            rows.append(text_row(self.package, y, width, contact.display_name, on_tap=f"open:{contact.id}",
                                 rid="com.android.contacts:id/cliv_name_textview"))
            y = rows[-1].bounds[3]
        return [bar,
                scroll_list(self.package, (left, top + TOOLBAR, width, bottom), rows, key="contacts", screen=screen,
                            rid="com.android.contacts:id/list"),
                Node("android.widget.ImageButton", (width - 260, bottom - 300, width - 80, bottom - 120),
                     desc="Create contact", clickable=True, focusable=True, on_tap="create", style="fab",
                     package=self.package, rid="com.android.contacts:id/floating_action_button")]

    def handle(self, phone: Phone, screen: Screen, handler: str) -> None:
        verb, _, arg = handler.partition(":")
        if verb == "open":
            phone.push({"name": "details", "id": int(arg)})
        elif verb == "create":
            phone.push({"name": "create", "texts": {}, "focus": self.first_id})
        elif verb == "save":
            texts = screen.get("texts", {})
            display = " ".join(p for p in (texts.get(self.first_id, "").strip(),
                                           texts.get(self.last_id, "").strip()) if p)
            if not display:
                phone.show_toast("Enter a name")
                return
            phone.state.add_contact(display, texts.get(self.phone_id, "").strip())
            phone.pop()
            phone.show_toast("Contact saved")


def default_apps() -> list[App]:
    """Every simulated app, the launcher first (its icons list the others)."""
    apps: list[App] = [SettingsApp(), NotesApp(), ContactsApp()]
    return [Launcher(sorted(apps, key=lambda a: a.label)), *apps]
