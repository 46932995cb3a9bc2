"""The simulated screen: a view tree, its uiautomator XML, its pixels and hit testing.

Apps describe each screen as a tree of :class:`Node` (Android view classes, bounds
in screen pixels, the accessibility flags uiautomator reports). From that one tree
this module makes

* the ``uiautomator dump`` XML (same element and attribute names as the real tool,
  bounds clipped to scrolling containers, off-screen views left out),
* a PNG screenshot drawn with Pillow, and
* the hit test that turns a tap's coordinates into the view it lands on.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import cache

from PIL import Image, ImageDraw, ImageFont

Rect = tuple[int, int, int, int]
"""(left, top, right, bottom) in screen pixels, right/bottom exclusive."""

ACCENT = (26, 115, 232)
TEXT = (32, 33, 36)
SUBTEXT = (95, 99, 104)
DIVIDER = (218, 220, 224)


@dataclass
class Node:
    """One view. ``on_tap``/``on_long`` name the app handler a tap or long press runs.

    ``style`` tells the renderer how to draw it (``text``, ``row``, ``switch``, ``edit``,
    ``button``, ``fab``, ``icon``, ``toolbar``, ``dialog``, ``radio``...); ``scroll_key``
    marks a scrolling container whose children are clipped to its bounds.
    """

    cls: str
    bounds: Rect
    text: str = ""
    desc: str = ""
    rid: str = ""
    package: str = ""
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
    hint: str = ""
    style: str = ""
    font_size: int = 44
    on_tap: str | None = None
    on_long: str | None = None
    scroll_key: str | None = None
    children: list[Node] = field(default_factory=list)

    def add(self, *nodes: Node) -> Node:
        """Append children (their package defaults to this node's); returns self."""
        for node in nodes:
            if not node.package:
                node.package = self.package
            self.children.append(node)
        return self

    @property
    def shown_text(self) -> str:
        """What uiautomator reports as ``text``: an empty field shows its hint, as on Android."""
        return self.text if self.text or not self.hint else self.hint


@dataclass(frozen=True)
class Visible:
    """A node as shown: its on-screen (clipped) bounds and the clip it is drawn under."""

    node: Node
    bounds: Rect
    clip: Rect


def intersect(a: Rect, b: Rect) -> Rect | None:
    left, top, right, bottom = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (left, top, right, bottom) if right > left and bottom > top else None


def visible_nodes(root: Node) -> list[Visible]:
    """Every node that shows, in drawing order (parents before children)."""
    out: list[Visible] = []

    def walk(node: Node, clip: Rect) -> None:
        shown = intersect(node.bounds, clip)
        if shown is None:
            return
        out.append(Visible(node, shown, clip))
        inner = shown if node.scroll_key else clip
        for child in node.children:
            walk(child, inner)

    walk(root, root.bounds)
    return out


def hit(root: Node, x: int, y: int, *, long: bool = False) -> Node | None:
    """The topmost view that handles a tap (or a long press) at ``(x, y)``."""
    for item in reversed(visible_nodes(root)):
        left, top, right, bottom = item.bounds
        if left <= x < right and top <= y < bottom:
            handler = item.node.on_long if long else item.node.on_tap
            if handler and item.node.enabled:
                return item.node
    return None


def scroll_container_at(root: Node, x: int, y: int) -> Node | None:
    """The innermost scrolling container under ``(x, y)``."""
    for item in reversed(visible_nodes(root)):
        left, top, right, bottom = item.bounds
        if item.node.scroll_key and left <= x < right and top <= y < bottom:
            return item.node
    return None


# --- uiautomator XML ---------------------------------------------------------------------------


def _attr(value: str) -> str:
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\n", "&#10;"))


def _flag(value: bool) -> str:
    return "true" if value else "false"


def dump_xml(root: Node, *, rotation: int = 0) -> str:
    """The ``uiautomator dump`` document for the tree under ``root``."""
    parts = ["<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>", f'<hierarchy rotation="{rotation}">']

    def emit(node: Node, index: int, clip: Rect) -> None:
        shown = intersect(node.bounds, clip)
        if shown is None:
            return
        left, top, right, bottom = shown
        parts.append(
            f'<node index="{index}" text="{_attr(node.shown_text)}" resource-id="{_attr(node.rid)}" '
            f'class="{node.cls}" package="{node.package}" content-desc="{_attr(node.desc)}" '
            f'checkable="{_flag(node.checkable)}" checked="{_flag(node.checked)}" '
            f'clickable="{_flag(node.clickable)}" enabled="{_flag(node.enabled)}" '
            f'focusable="{_flag(node.focusable)}" focused="{_flag(node.focused)}" '
            f'scrollable="{_flag(node.scrollable)}" long-clickable="{_flag(node.long_clickable)}" '
            f'password="{_flag(node.password)}" selected="{_flag(node.selected)}" '
            f'bounds="[{left},{top}][{right},{bottom}]"')
        inner = shown if node.scroll_key else clip
        kids = [c for c in node.children if intersect(c.bounds, inner) is not None]
        if not kids:
            parts.append(" />")
            return
        parts.append(">")
        for i, child in enumerate(kids):
            emit(child, i, inner)
        parts.append("</node>")

    emit(root, 0, root.bounds)
    parts.append("</hierarchy>")
    return "".join(parts)


# --- pixels ----------------------------------------------------------------------------------------


@cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font at ``size`` pixels (a bitmap font where FreeType is missing)."""
    try:
        return ImageFont.load_default(size=size)
    except (AttributeError, ImportError, OSError, TypeError):
        return ImageFont.load_default()


def _text(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, size: int, fill: tuple[int, int, int],
          *, center_in: Rect | None = None) -> None:
    face = font(size)
    if center_in is not None:
        left, top, right, bottom = draw.textbbox((0, 0), text, font=face)
        xy = (int(center_in[0] + center_in[2] - (right - left)) // 2,
              int(center_in[1] + center_in[3] - (bottom - top)) // 2 - int(top))
    draw.text(xy, text, font=face, fill=fill)


def _draw_node(draw: ImageDraw.ImageDraw, node: Node) -> None:
    left, top, right, bottom = node.bounds
    style = node.style
    if style == "screen":
        draw.rectangle(node.bounds, fill=(255, 255, 255))
    elif style == "toolbar":
        draw.rectangle(node.bounds, fill=(241, 243, 244))
    elif style == "row":
        draw.line([(left + 40, bottom - 1), (right - 40, bottom - 1)], fill=DIVIDER, width=2)
    elif style == "text":
        _text(draw, (left, top), node.text, node.font_size, TEXT)
    elif style == "subtext":
        _text(draw, (left, top), node.text, node.font_size, SUBTEXT)
    elif style == "title":
        _text(draw, (left, top), node.text, node.font_size, TEXT)
    elif style == "switch":
        mid = (top + bottom) // 2
        track = (left + 10, mid - 24, right - 10, mid + 24)
        draw.rounded_rectangle(track, radius=24, fill=ACCENT if node.checked else (189, 193, 198))
        knob_x = right - 44 if node.checked else left + 44
        draw.ellipse((knob_x - 30, mid - 30, knob_x + 30, mid + 30), fill=(255, 255, 255),
                     outline=ACCENT if node.checked else (128, 134, 139), width=3)
    elif style == "radio":
        mid = (top + bottom) // 2
        draw.ellipse((left + 10, mid - 26, left + 62, mid + 26), outline=ACCENT, width=5)
        if node.checked:
            draw.ellipse((left + 22, mid - 14, left + 50, mid + 14), fill=ACCENT)
    elif style == "edit":
        draw.line([(left, bottom - 4), (right, bottom - 4)], fill=ACCENT if node.focused else (128, 134, 139),
                  width=4 if node.focused else 2)
        lines = (node.text or node.hint).split("\n")
        color = TEXT if node.text else (154, 160, 166)
        step = int(node.font_size * 1.3)
        for i, line in enumerate(lines):
            _text(draw, (left + 8, top + 20 + i * step), line, node.font_size, color)
        if node.focused:
            last = lines[-1] if node.text else ""
            caret = draw.textlength(last, font=font(node.font_size)) + left + 12
            y0 = top + 18 + (len(lines) - 1) * step if node.text else top + 18
            draw.line([(caret, y0), (caret, y0 + step)], fill=ACCENT, width=3)
    elif style in ("button", "fab", "menuitem"):
        fill = ACCENT if style == "fab" else ((255, 255, 255) if style == "menuitem" else (232, 240, 254))
        draw.rounded_rectangle(node.bounds, radius=28 if style != "menuitem" else 0, fill=fill)
        label = node.text or ("+" if style == "fab" else node.desc)
        _text(draw, (0, 0), label, 64 if style == "fab" else node.font_size,
              (255, 255, 255) if style == "fab" else ACCENT if style == "button" else TEXT, center_in=node.bounds)
    elif style == "appicon":  # a launcher icon: a tile with the initial, the label under it
        tile = ((left + right) // 2 - 80, top + 10, (left + right) // 2 + 80, top + 170)
        draw.rounded_rectangle(tile, radius=44, fill=ACCENT)
        _text(draw, (0, 0), (node.text or "?")[0], 80, (255, 255, 255), center_in=tile)
        _text(draw, (0, 0), node.text, 38, TEXT, center_in=(left, top + 180, right, bottom))
    elif style == "dialog":
        draw.rounded_rectangle(node.bounds, radius=32, fill=(255, 255, 255), outline=DIVIDER, width=2)
    elif style == "menu":
        draw.rectangle(node.bounds, fill=(255, 255, 255), outline=DIVIDER, width=2)


def _status_bar(draw: ImageDraw.ImageDraw, width: int, clock: str, icons: tuple[str, ...]) -> None:
    """The status bar: the clock at the left, icons (drawn, not spelled) at the right."""
    draw.rectangle((0, 0, width, 80), fill=(241, 243, 244))
    _text(draw, (40, 18), clock, 38, TEXT)
    x = width - 60
    for icon in icons:
        if icon == "wifi":  # a fan of arcs
            for r in (12, 24, 36):
                draw.arc((x - r, 58 - r, x + r, 58 + r), 225, 315, fill=TEXT, width=5)
        elif icon == "airplane":  # a plane seen from above
            draw.polygon([(x, 18), (x + 6, 40), (x + 30, 52), (x + 6, 50), (x + 4, 64), (x + 12, 70), (x - 12, 70),
                          (x - 4, 64), (x - 6, 50), (x - 30, 52), (x - 6, 40)], fill=TEXT)
        elif icon == "bluetooth":  # the rune's outline
            draw.line([(x - 10, 30), (x + 10, 50), (x, 62), (x, 18), (x + 10, 30), (x - 10, 50)], fill=TEXT, width=4)
        x -= 80


def render_png(root: Node, size: tuple[int, int], *, clock: str = "", icons: tuple[str, ...] = (), toast: str = "",
               dim_below: Node | None = None) -> bytes:
    """Draw the tree (and the status bar and a toast) into PNG bytes.

    ``dim_below`` is a dialog node: everything drawn before it is darkened, as
    behind a real modal dialog.
    """
    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    # Views inside a scrolling container are drawn on a scratch copy of the screen, and
    # only the container's rectangle is pasted back: that is the clipping.
    layer: Image.Image | None = None
    layer_clip: Rect | None = None

    def flush() -> None:
        nonlocal layer, layer_clip
        if layer is not None and layer_clip is not None:
            image.paste(layer.crop(layer_clip), layer_clip[:2])
        layer, layer_clip = None, None

    for item in visible_nodes(root):
        if item.clip != layer_clip:
            flush()
        if dim_below is not None and item.node is dim_below:
            image = Image.blend(image, Image.new("RGB", size, (0, 0, 0)), 0.4)
            draw = ImageDraw.Draw(image)
        if item.clip == root.bounds:
            _draw_node(draw, item.node)
            continue
        if layer is None:
            layer, layer_clip = image.copy(), item.clip
        _draw_node(ImageDraw.Draw(layer), item.node)
    flush()
    draw = ImageDraw.Draw(image)
    if clock or icons:
        _status_bar(draw, size[0], clock, icons)
    if toast:
        box = (size[0] // 2 - 360, size[1] - 320, size[0] // 2 + 360, size[1] - 200)
        draw.rounded_rectangle(box, radius=60, fill=(60, 64, 67))
        _text(draw, (0, 0), toast, 40, (255, 255, 255), center_in=box)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()
