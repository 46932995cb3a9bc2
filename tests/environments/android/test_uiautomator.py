"""uiautomator dump parsing (fast: no device)."""

from __future__ import annotations

import pytest

from steadyhand.environments.android.uiautomator import (
    UIDumpError,
    describe_elements,
    parse_bounds,
    parse_dump,
    screen_elements,
)

# The shape of a real device's dump (Pixel, Android 14), trimmed.
DUMP = (
    "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>"
    '<hierarchy rotation="0">'
    '<node index="0" text="" resource-id="" class="android.widget.FrameLayout" package="com.android.settings" '
    'content-desc="" checkable="false" checked="false" clickable="false" enabled="true" focusable="false" '
    'focused="false" scrollable="false" long-clickable="false" password="false" selected="false" '
    'bounds="[0,0][1080,2400]">'
    '<node index="0" text="" resource-id="com.android.settings:id/recycler_view" '
    'class="androidx.recyclerview.widget.RecyclerView" package="com.android.settings" content-desc="" '
    'checkable="false" checked="false" clickable="false" enabled="true" focusable="true" focused="false" '
    'scrollable="true" long-clickable="false" password="false" selected="false" bounds="[0,280][1080,2400]">'
    '<node index="0" text="" resource-id="" class="android.widget.LinearLayout" package="com.android.settings" '
    'content-desc="" checkable="false" checked="false" clickable="true" enabled="true" focusable="true" '
    'focused="false" scrollable="false" long-clickable="false" password="false" selected="false" '
    'bounds="[0,280][1080,450]">'
    '<node index="0" text="Wi-Fi &amp; more" resource-id="android:id/title" class="android.widget.TextView" '
    'package="com.android.settings" content-desc="" checkable="false" checked="false" clickable="false" '
    'enabled="true" focusable="false" focused="false" scrollable="false" long-clickable="false" '
    'password="false" selected="false" bounds="[60,320][860,380]" />'
    '<node index="1" text="ON" resource-id="android:id/switch_widget" class="android.widget.Switch" '
    'package="com.android.settings" content-desc="" checkable="true" checked="true" clickable="false" '
    'enabled="true" focusable="true" focused="false" scrollable="false" long-clickable="false" '
    'password="false" selected="false" bounds="[880,325][1030,405]" />'
    '</node>'
    '<node index="1" text="" resource-id="" class="android.view.View" package="com.android.settings" '
    'content-desc="" checkable="false" checked="false" clickable="false" enabled="true" focusable="false" '
    'focused="false" scrollable="false" long-clickable="false" password="false" selected="false" '
    'bounds="[0,450][1080,452]" />'
    '<node index="2" text="" resource-id="com.example:id/gone" class="android.widget.Button" '
    'package="com.android.settings" content-desc="Hidden" checkable="false" checked="false" clickable="true" '
    'enabled="true" focusable="true" focused="false" scrollable="false" long-clickable="false" '
    'password="false" selected="false" bounds="[0,0][0,0]" />'
    '</node></node></hierarchy>'
)


def test_every_node_is_parsed_with_its_attributes_and_depth() -> None:
    nodes = parse_dump(DUMP)
    assert len(nodes) == 7
    title = nodes[3]
    assert (title.text, title.resource_id, title.short_class, title.depth) == (
        "Wi-Fi & more", "android:id/title", "TextView", 3)
    switch = nodes[4]
    assert switch.checkable and switch.checked and not switch.clickable and switch.enabled
    assert switch.bounds == (880, 325, 1030, 405) and switch.center == (955, 365)


def test_the_agent_sees_only_meaningful_visible_elements_numbered_in_order() -> None:
    elements = screen_elements(DUMP)
    # the root (no words, no actions), the divider and the zero-size button are left out
    assert [e.index for e in elements] == [0, 1, 2, 3]
    assert [e.short_class for e in elements] == ["RecyclerView", "LinearLayout", "TextView", "Switch"]
    text = describe_elements(elements)
    assert text.splitlines()[2] == '[2] TextView "Wi-Fi & more" id=android:id/title bounds=[60,320][860,380]'
    assert "scrollable" in text.splitlines()[0] and "checked" in text.splitlines()[3]


def test_a_status_line_after_the_document_is_ignored() -> None:
    assert len(parse_dump(DUMP + "UI hierchary dumped to: /dev/tty\n")) == 7


@pytest.mark.parametrize(("xml", "message"), [
    ("ERROR: could not get idle state.", "not well-formed"),
    ("<?xml version='1.0' ?><root />", "not <hierarchy>"),
    ("<hierarchy><node bounds='[1,2][3]' /></hierarchy>", "bad bounds"),
])
def test_broken_dumps_are_named(xml: str, message: str) -> None:
    with pytest.raises(UIDumpError, match=message):
        parse_dump(xml)


def test_bounds() -> None:
    assert parse_bounds("[0,-5][1080,2400]") == (0, -5, 1080, 2400)
    with pytest.raises(UIDumpError):
        parse_bounds("0,0,10,10")
