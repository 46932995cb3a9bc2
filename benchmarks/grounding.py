"""Grounding accuracy and latency per expert, on a grounding set made from real apps.

The set (built once, cached under ``~/.cache/steadyhand/grounding-set``; ``--rebuild``
makes it again) comes from a local Xvfb desktop at 1280x720:

* Chromium (Debian's, started inside the desktop, driven by Playwright over CDP):
  generated pages (seeded: nav links, headings, forms, tables, body text; five font
  families, light and dark themes, coloured buttons). Ground-truth boxes come from
  the DOM, moved to the screen by a marker element found in the screenshot.
* Mousepad and LibreOffice Calc with each menu opened: boxes of menus and menu
  items from the AT-SPI tree (LibreOffice's toolbar and sheet-tab boxes are off by
  the menu bar's height under gtk3, so only its menus are used).

Each target has a description written the way a worker writes one: quoted
(``the "Save draft" button``) or plain (``Save draft button``), chosen by the seed.
* xterm screens of shell sessions (``ls`` listings, ``echo`` output) in the 9x15
  bitmap font: xterm has no accessibility tree, so a word's box is its character
  cells (row and column times the cell size, from the window's position).

Labels are unique on their screen.

Per expert: accuracy (the returned point, or a box's centre, inside the target
box) and the median latency of a request on a screenshot it has not seen before
(caches cleared). The textual expert (tesseract on text regions) is compared with
a full-page tesseract pass (``--psm 11`` at the screenshot's scale) in the same run.

    python benchmarks/grounding.py [--rebuild] [--pages 175] [--rapidocr] [--candidates local:smollm2]

Targets: textual >= 90% accuracy and <= 0.5 s median per screenshot on text-labelled
targets. The last line is a JSON object: ``{"experts": {name: {accuracy, median_s, n}},
"baseline": {...}, ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

CACHE = Path.home() / ".cache" / "steadyhand" / "grounding-set"
SET_VERSION = 3
W, H = 1280, 720
MARKER = (255, 0, 255)

# --- page generator -----------------------------------------------------------------------------

FONTS = ["DejaVu Sans", "Liberation Serif", "Liberation Sans", "DejaVu Serif", "Liberation Mono"]
VERBS = ["Save", "Export", "Upload", "Share", "Archive", "Preview", "Submit", "Continue", "Download", "Print",
         "Delete", "Refresh", "Subscribe", "Register", "Compare", "Filter", "Sort", "Publish", "Invite", "Restore"]
NOUNS = ["report", "invoice", "settings", "profile", "orders", "projects", "billing", "members", "reviews", "photos",
         "tickets", "messages", "calendar", "analytics", "pricing", "contacts", "library", "storage", "payments",
         "customers", "draft", "backup", "summary", "schedule", "budget", "inventory", "feedback", "journal"]
ADJ = ["Quarterly", "Annual", "Weekly", "Regional", "Shared", "Archived", "Pending", "Recent", "Featured", "Private"]
LATIN = [
    "lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do", "eiusmod", "tempor",
    "incididunt", "ut", "labore", "et", "dolore", "magna", "aliqua", "enim", "ad", "minim", "veniam", "quis",
    "nostrud", "exercitation", "ullamco", "laboris", "nisi", "aliquip", "ex", "ea", "commodo", "consequat", "duis",
    "aute", "irure", "in", "reprehenderit", "voluptate", "velit", "esse", "cillum", "fugiat", "nulla", "pariatur",
]


def _label(rng: random.Random, used: set[str], kind: str) -> str:
    for _ in range(100):
        if kind == "button":
            text = f"{rng.choice(VERBS)} {rng.choice(NOUNS)}"
        elif kind == "heading":
            text = f"{rng.choice(ADJ)} {rng.choice(NOUNS)} {rng.choice(['overview', 'details', 'status'])}"
        elif kind == "th":
            text = rng.choice(NOUNS).capitalize()
        else:
            text = rng.choice([f"{rng.choice(ADJ)} {rng.choice(NOUNS)}", rng.choice(NOUNS).capitalize()])
        if text.lower() not in used and text.split()[-1].lower() not in {u.split()[-1] for u in used}:
            used.add(text.lower())
            return text
    raise RuntimeError("label vocabulary exhausted")


def make_page(seed: int) -> str:
    """One deterministic HTML page with a marker square at the viewport's (0, 0)."""
    rng = random.Random(seed)
    used: set[str] = set()
    dark = rng.random() < 0.3
    bg, fg = ("#1f2329", "#e6e6e6") if dark else ("#ffffff", "#202020")
    font, size = rng.choice(FONTS), rng.choice([13, 14, 15, 16, 18])
    accent = rng.choice(["#1a73e8", "#188038", "#c5221f", "#6f42c1", "#e8710a"])
    nav = "".join(f'<a href="#">{_label(rng, used, "link")}</a>' for _ in range(rng.randint(3, 6)))
    body = " ".join(rng.choice(LATIN) for _ in range(rng.randint(40, 120)))
    fields = "".join(f'<div class="f"><label>{_label(rng, used, "link")}</label><input></div>'
                     for _ in range(rng.randint(1, 3)))
    buttons = "".join(f'<button class="{rng.choice(["p", "s"])}">{_label(rng, used, "button")}</button>'
                      for _ in range(rng.randint(1, 3)))
    heads = [_label(rng, used, "th") for _ in range(rng.randint(2, 4))]
    rows = "".join("<tr>" + "".join(f"<td>{rng.randint(10, 9999)}</td>" for _ in heads) + "</tr>"
                   for _ in range(rng.randint(1, 4)))
    side = "".join(f'<li><a href="#">{_label(rng, used, "link")}</a></li>' for _ in range(rng.randint(2, 5)))
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>page {seed}</title><style>
body{{margin:0;background:{bg};color:{fg};font-family:'{font}';font-size:{size}px}}
#m{{position:fixed;left:0;top:0;width:10px;height:10px;background:rgb{MARKER};z-index:9}}
nav{{display:flex;gap:{rng.randint(18, 40)}px;padding:14px 24px;background:{accent}}}
nav a{{color:#fff;text-decoration:none}}
main{{display:flex;gap:40px;padding:20px {rng.randint(20, 90)}px}} section{{flex:3}} aside{{flex:1}}
a{{color:{accent if not dark else '#8ab4f8'}}} .f{{margin:8px 0}} label{{display:inline-block;width:170px}}
button{{margin:10px 10px 0 0;padding:6px 14px;font:inherit;border-radius:4px}}
button.p{{background:{accent};color:#fff;border:0}} button.s{{background:transparent;color:{fg};border:1px solid #888}}
table{{border-collapse:collapse;margin-top:16px}} td,th{{border:1px solid #999;padding:4px 12px}}
li{{margin:6px 0}} p{{max-width:640px;line-height:1.4}}</style></head><body><div id="m"></div>
<nav>{nav}</nav><main><section><h2>{_label(rng, used, "heading")}</h2><p>{body}</p>{fields}<div>{buttons}</div>
<table><tr>{''.join(f'<th>{h}</th>' for h in heads)}</tr>{rows}</table></section>
<aside><h3>{_label(rng, used, "heading")}</h3><ul>{side}</ul></aside></main></body></html>"""


DOM_TARGETS = """() => {
  const out = [];
  const roles = {A: 'link', BUTTON: 'button', H2: 'heading', H3: 'heading', LABEL: 'label', TH: 'column header'};
  for (const el of document.querySelectorAll('a, button, h2, h3, label, th')) {
    const r = el.getBoundingClientRect();
    const text = el.innerText.trim();
    if (!text || r.width < 4 || r.height < 4 || r.bottom > innerHeight || r.right > innerWidth) continue;
    out.push({role: roles[el.tagName], name: text, box: [r.left, r.top, r.width, r.height]});
  }
  return out;
}"""

# --- building the set ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _marker(png: bytes) -> tuple[int, int] | None:
    import io

    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    ys, xs = np.nonzero(np.all(pixels == MARKER, axis=-1))
    return (int(xs.min()), int(ys.min())) if len(xs) else None


def _describe(rng: random.Random, role: str, name: str) -> tuple[str, str]:
    kind = {"menu-item": "menu item", "column header": "column header"}.get(role, role)
    if rng.random() < 0.7:
        return f'the "{name}" {kind}', "quoted"
    return f"{name} {kind}", "plain"


def _pick(rng: random.Random, candidates: list[dict[str, Any]], k: int,
          others: list[str] | None = None) -> list[dict[str, Any]]:
    """Up to ``k`` candidates whose label is on the screen once (not even inside another label)."""
    from steadyhand.tools.grounding.matching import normalize

    names = [normalize(c["name"]) for c in candidates]
    # ``others`` (every label on the screen) includes the candidates themselves; without it, the candidates
    pool = [f" {n} " for n in ([normalize(o) for o in others] if others is not None else names) if n]
    unique = [c for c, n in zip(candidates, names, strict=True) if n and sum(f" {n} " in o for o in pool) == 1]
    rng.shuffle(unique)
    return unique[:k]


class Builder:
    """Makes the grounding set on one local desktop (see the module docstring)."""

    def __init__(self, out: Path, *, pages: int, per_screen: int, seed: int) -> None:
        from steadyhand.environments.desktop.providers.local import LocalProvider

        self.out, self.pages, self.per_screen = out, pages, per_screen
        self.rng = random.Random(seed)
        self.items: list[dict[str, Any]] = []
        (out / "shots").mkdir(parents=True, exist_ok=True)
        self.provider = LocalProvider()
        self.desktop = self.provider.start(width=W, height=H)
        self.client = self.desktop.client(timeout_s=60)

    def close(self) -> None:
        self.client.close()
        self.provider.close()

    def _save(self, app: str, png: bytes, tree: str | None, targets: list[dict[str, Any]]) -> None:
        shot = f"{len(self.items):04d}-{app}"
        (self.out / "shots" / f"{shot}.png").write_bytes(png)
        if tree:
            (self.out / "shots" / f"{shot}.xml").write_text(tree)
        for target in targets:
            description, style = _describe(self.rng, target["role"], target["name"])
            target.update(description=description, style=style, text_labelled=True)
        self.items.append({"id": shot, "app": app, "tree": bool(tree), "targets": targets})
        print(f"  {shot}: {len(targets)} targets", file=sys.stderr, flush=True)

    def chromium(self) -> None:
        from playwright.sync_api import sync_playwright

        port = _free_port()
        self.client.launch(["chromium", f"--remote-debugging-port={port}", "--no-sandbox", "--no-first-run",
                            "--no-default-browser-check", "--disable-gpu", "--test-type",
                            "--force-renderer-accessibility",
                            "--user-data-dir=/tmp/steadyhand-grounding-chromium", "--window-position=0,0",
                            f"--window-size={W},{H}", "--password-store=basic", "about:blank"])
        with sync_playwright() as pw:
            browser = None
            for _ in range(120):
                try:
                    browser = pw.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
                    break
                except Exception:
                    time.sleep(0.5)
            if browser is None:
                raise RuntimeError("chromium did not open its debugging port")
            page = browser.contexts[0].pages[0]
            for i in range(self.pages):
                path = f"/tmp/steadyhand-grounding-pages/p{i:03d}.html"
                self.client.upload_file(path, make_page(1000 + i).encode())
                page.goto(f"file://{path}")
                page.wait_for_load_state("load")
                offset = self._stable_marker()
                if offset is None:
                    print(f"  page {i}: marker not found, skipped", file=sys.stderr)
                    continue
                page.evaluate("document.getElementById('m').remove()")
                time.sleep(0.2)
                png = self.client.screenshot()
                tree = self.client.accessibility_tree() if i % 4 == 0 else None
                found = [{"role": t["role"], "name": t["name"],
                          "box": [round(t["box"][0]) + offset[0], round(t["box"][1]) + offset[1],
                                  round(t["box"][2]), round(t["box"][3])]} for t in page.evaluate(DOM_TARGETS)]
                self._save("chromium", png, tree, _pick(self.rng, found, self.per_screen))
            browser.close()
        self.client.execute("pkill -f steadyhand-grounding-chromium", shell=True)

    def _stable_marker(self) -> tuple[int, int] | None:
        """The marker's screen position once two screenshots 0.3 s apart agree (bars may still slide in)."""
        last = None
        for _ in range(20):
            time.sleep(0.3)
            found = _marker(self.client.screenshot())
            if found is not None and found == last:
                return found
            last = found
        return None

    def _menus(self, app: str, window_hint: str, wanted: list[str]) -> None:
        from steadyhand.tools.grounding.experts.accessibility import parse_tree

        for menu_name in [None, *wanted]:
            tree = self.client.accessibility_tree()
            elements = parse_tree(tree, screen=(W, H))
            bar = [e for e in elements if e.role == "menu" and e.active and e.name.strip() in wanted]
            if menu_name is not None:
                hit = next((e for e in bar if e.name.strip() == menu_name), None)
                if hit is None:
                    continue
                self.client.run_pyautogui(f"pyautogui.click({hit.center[0]}, {hit.center[1]})")
                time.sleep(1.0)
                tree = self.client.accessibility_tree()
                elements = parse_tree(tree, screen=(W, H))
                opened = [e for e in elements if e.role in ("menu-item", "menu", "check-menu-item",
                                                             "radio-menu-item") and e not in bar and e.name.strip()]
                cands = [{"role": "menu item" if e.role != "menu" else "submenu", "name": e.name.strip(),
                          "box": [e.left, e.top, e.width, e.height]} for e in opened]
            else:
                cands = [{"role": "menu", "name": e.name.strip(), "box": [e.left, e.top, e.width, e.height]}
                         for e in bar if e.name.strip()]
            png = self.client.screenshot()
            others = [e.label for e in elements if e.label]  # window titles too: an item may repeat one
            self._save(app, png, tree, _pick(self.rng, cands, self.per_screen, others))
            if menu_name is not None:
                self.client.run_pyautogui("pyautogui.press('escape')")
                time.sleep(0.4)

    def mousepad(self, documents: int) -> None:
        for d in range(documents):
            path = f"/tmp/steadyhand-grounding-docs/notes{d}.txt"
            words = random.Random(d).choices(LATIN, k=300)
            self.client.upload_file(path, " ".join(words).encode())
            self.client.launch(["mousepad", path])
            time.sleep(3)
            if d % 2:
                self.client.execute("wmctrl -r :ACTIVE: -b add,maximized_vert,maximized_horz", shell=True)
                time.sleep(1)
            self._menus("mousepad", "Mousepad", ["File", "Edit", "Search", "View", "Document", "Help"])
            self.client.execute("pkill -x mousepad", shell=True)
            time.sleep(1)

    def xterm(self, screens: int) -> None:
        """Terminal screens in a fixed-cell font: a word's box is its character cells (xterm has no AT-SPI tree)."""
        import re

        cell_w, cell_h, border = 9, 15, 4  # the 9x15 bitmap font and xterm's internal border (-b)
        for n in range(screens):
            rng = random.Random(5000 + n)
            lines: list[str] = []
            while len(lines) < 26:
                folder = rng.choice(NOUNS)
                names = [f"{rng.choice(NOUNS)}_{rng.randint(1, 99)}.{rng.choice(['txt', 'csv', 'md', 'py', 'log'])}"
                         for _ in range(rng.randint(2, 5))]
                lines += [f"user@vm:~$ ls {folder}", "  ".join(names)]
                if rng.random() < 0.5:
                    lines += [f"user@vm:~$ echo {' '.join(rng.choices(LATIN, k=4))}", " ".join(rng.choices(LATIN, k=6))]
            lines = lines[:26]
            title = f"term{n}"
            path = f"/tmp/steadyhand-grounding-term/{title}.txt"
            self.client.upload_file(path, "\n".join(lines).encode())
            self.client.launch(["xterm", "-fn", "9x15", "-b", str(border), "-geometry",
                                f"100x28+{rng.randint(0, 300)}+{rng.randint(0, 200)}", "-title", title,
                                "-e", "sh", "-c", f"cat {path}; sleep 600"])
            info = ""
            for _ in range(40):
                time.sleep(0.5)
                info = self.client.execute(f"xwininfo -name {title}", shell=True).get("output", "")
                if "IsViewable" in info:
                    break
            found = re.search(r"Absolute upper-left X:\s+(-?\d+).*Absolute upper-left Y:\s+(-?\d+)", info, re.S)
            if found is None:
                print(f"  {title}: window not found, skipped", file=sys.stderr)
                continue
            time.sleep(0.5)
            x0, y0 = int(found.group(1)) + border, int(found.group(2)) + border
            words = [(row, m.start(), m.group()) for row, line in enumerate(lines) for m in re.finditer(r"\S+", line)]
            cands = [{"role": "text", "name": word, "box": [x0 + col * cell_w, y0 + row * cell_h,
                                                            len(word) * cell_w, cell_h]}
                     for row, col, word in words if len(word) >= 4 and not word.startswith("user@")]
            self._save("xterm", self.client.screenshot(), None,
                       _pick(self.rng, cands, self.per_screen, [w for _, _, w in words]))
            self.client.execute(f"pkill -f 'xterm.*{title}'", shell=True)

    def calc(self, documents: int) -> None:
        from steadyhand.tools.grounding.experts.structural import uno_set_cells

        for d in range(documents):
            self.client.launch(["soffice", "--calc", "--norestore"])
            for _ in range(60):
                time.sleep(1)
                if "Calc" in self.client.execute("wmctrl -l", shell=True).get("output", ""):
                    break
            time.sleep(3)
            rng = random.Random(d)
            uno_set_cells(self.client, {f"{c}{r}": rng.randint(1, 999) for c in "ABCD" for r in range(1, 8)})
            self._menus("calc", "LibreOffice Calc", ["File", "Edit", "View", "Insert", "Format", "Styles",
                                                     "Sheet", "Data", "Tools", "Window", "Help"])
            self.client.execute("pkill -f soffice.bin", shell=True)
            time.sleep(2)


def build(out: Path, *, pages: int, per_screen: int, seed: int, mousepad_docs: int = 3,
          calc_docs: int = 2, xterm_screens: int = 20) -> list[dict[str, Any]]:
    """Make the set under ``out`` (replacing what is there) and return its items."""
    shutil.rmtree(out, ignore_errors=True)
    builder = Builder(out, pages=pages, per_screen=per_screen, seed=seed)
    try:
        print("building: chromium pages", file=sys.stderr)
        builder.chromium()
        print("building: mousepad", file=sys.stderr)
        builder.mousepad(mousepad_docs)
        print("building: calc", file=sys.stderr)
        builder.calc(calc_docs)
        print("building: xterm", file=sys.stderr)
        builder.xterm(xterm_screens)
    finally:
        builder.close()
    items = [i for i in builder.items if i["targets"]]
    manifest = {"version": SET_VERSION, "seed": seed, "pages": pages, "screen": [W, H], "items": items}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return items


# --- measuring ------------------------------------------------------------------------------------


def _point(result: Any) -> tuple[int, int]:
    target = result.target
    if target.kind == "box":
        return target.center
    if target.kind == "point":
        return target.x, target.y
    raise ValueError(f"not a point target: {target.kind}")


def _inside(point: tuple[int, int], box: list[int]) -> bool:
    return box[0] <= point[0] < box[0] + box[2] and box[1] <= point[1] < box[1] + box[3]


def measure(name: str, expert: Any, items: list[dict[str, Any]], root: Path, *, needs_tree: bool = False,
            limit: int | None = None, reset: Callable[[], None] | None = None) -> dict[str, Any]:
    """Accuracy and latency of one expert over every target (caches reset before each request)."""
    from steadyhand.core.observation import Observation
    from steadyhand.tools.grounding import GroundingError, GroundingRequest

    rows: list[dict[str, Any]] = []
    for item in items:
        if needs_tree and not item["tree"]:
            continue
        png = (root / "shots" / f"{item['id']}.png").read_bytes()
        tree = (root / "shots" / f"{item['id']}.xml").read_text() if item["tree"] else None
        obs = Observation(screenshot=png, accessibility_tree=tree, info={"screen_size": [W, H]})
        for target in item["targets"]:
            if limit is not None and len(rows) >= limit:
                break
            if reset:
                reset()
            started = time.perf_counter()
            try:
                result = expert.ground(GroundingRequest(action="click", description=target["description"]), obs)
                hit = _inside(_point(result), target["box"])
            except GroundingError:
                hit = False
            rows.append({"hit": hit, "s": time.perf_counter() - started, "app": item["app"],
                         "style": target["style"]})
    print(f"  {name}: {len(rows)} requests", file=sys.stderr, flush=True)
    return summarise(rows)


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    if not rows:
        return {"accuracy": None, "median_s": None, "n": 0}
    times = sorted(r["s"] for r in rows)
    out: dict[str, Any] = {"accuracy": round(sum(r["hit"] for r in rows) / len(rows), 4),
                           "median_s": round(statistics.median(times), 4),
                           "p90_s": round(times[int(0.9 * (len(times) - 1))], 4), "n": len(rows)}
    for key in ("app", "style"):
        groups: dict[str, list[bool]] = {}
        for r in rows:
            groups.setdefault(r[key], []).append(r["hit"])
        out[f"by_{key}"] = {k: {"accuracy": round(sum(v) / len(v), 4), "n": len(v)} for k, v in sorted(groups.items())}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache-dir", type=Path, default=CACHE)
    parser.add_argument("--rebuild", action="store_true", help="make the grounding set again")
    parser.add_argument("--pages", type=int, default=175, help="Chromium pages in the set")
    parser.add_argument("--per-screen", type=int, default=2, help="targets per screenshot")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--mousepad-docs", type=int, default=3, help="Mousepad documents (7 screenshots each)")
    parser.add_argument("--calc-docs", type=int, default=2, help="Calc documents (12 screenshots each)")
    parser.add_argument("--xterm-screens", type=int, default=20, help="xterm screens")
    parser.add_argument("--build-only", action="store_true", help="make the set, measure nothing")
    parser.add_argument("--rapidocr", action="store_true", help="also measure the textual expert with rapidocr")
    parser.add_argument("--candidates", metavar="MODEL_SPEC", help="also measure the candidates expert with this model")
    parser.add_argument("--candidates-n", type=int, default=30, help="requests for the candidates expert")
    parser.add_argument("--visual", metavar="SPEC", help="also measure a visual expert (needs a model server)")
    args = parser.parse_args(argv)

    manifest_path = args.cache_dir / "manifest.json"
    fresh = args.rebuild or not manifest_path.is_file()
    if not fresh:
        manifest = json.loads(manifest_path.read_text())
        fresh = manifest.get("version") != SET_VERSION or manifest.get("pages") != args.pages
    items = build(args.cache_dir, pages=args.pages, per_screen=args.per_screen, seed=args.seed,
                  mousepad_docs=args.mousepad_docs, calc_docs=args.calc_docs,
                  xterm_screens=args.xterm_screens) if fresh \
        else json.loads(manifest_path.read_text())["items"]
    targets = sum(len(i["targets"]) for i in items)
    print(f"grounding set: {len(items)} screenshots, {targets} targets ({args.cache_dir})", file=sys.stderr)
    if args.build_only:
        return 0

    from steadyhand.tools.grounding.experts import AccessibilityExpert, TextualExpert

    load_before = os.getloadavg()[0]

    textual = TextualExpert("tesseract")
    baseline = TextualExpert("tesseract?mode=page")
    experts = {"textual": measure("textual", textual, items, args.cache_dir, reset=textual.clear_cache)}
    base = measure("baseline", baseline, items, args.cache_dir, reset=baseline.clear_cache)
    experts["accessibility"] = measure("accessibility", AccessibilityExpert(), items, args.cache_dir, needs_tree=True)
    if args.rapidocr:
        rapid = TextualExpert("rapidocr")
        experts["textual-rapidocr"] = measure("textual-rapidocr", rapid, items, args.cache_dir,
                                              reset=rapid.clear_cache)
    if args.candidates:
        from steadyhand.tools.grounding.experts import CandidatesExpert

        cand = CandidatesExpert(args.candidates)
        experts["candidates"] = measure("candidates", cand, items, args.cache_dir, limit=args.candidates_n,
                                        reset=cand._textual.clear_cache if cand._textual else None)
    if args.visual:
        from steadyhand.tools.grounding.experts import VisualExpert

        experts["visual"] = measure("visual", VisualExpert(args.visual), items, args.cache_dir)

    print(f"\n{'expert':<22}{'n':>6}{'accuracy':>10}{'median s':>10}{'p90 s':>8}   by app / by description")
    for name, row in [*experts.items(), ("baseline (page OCR)", base)]:
        if not row["n"]:
            continue
        apps = ", ".join(f"{k} {v['accuracy']:.0%}" for k, v in row["by_app"].items())
        styles = ", ".join(f"{k} {v['accuracy']:.0%}" for k, v in row["by_style"].items())
        print(f"{name:<22}{row['n']:>6}{row['accuracy']:>10.1%}{row['median_s']:>10.3f}{row['p90_s']:>8.3f}   "
              f"{apps} / {styles}")
    print(f"machine: {os.cpu_count()} CPUs, 1-minute load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after (latencies grow with it)")
    t = experts["textual"]
    if t["median_s"] and base["median_s"]:
        print(f"textual vs page OCR: accuracy {t['accuracy']:.1%} vs {base['accuracy']:.1%}, median "
              f"{t['median_s']:.3f} s vs {base['median_s']:.3f} s ({base['median_s'] / t['median_s']:.2f}x)")
    print(json.dumps({"experts": {k: {"accuracy": v["accuracy"], "median_s": v["median_s"], "n": v["n"]}
                                  for k, v in experts.items()},
                      "baseline": {"accuracy": base["accuracy"], "median_s": base["median_s"], "n": base["n"]},
                      "screenshots": len(items), "targets": targets,
                      "load_avg": [round(load_before, 2), round(os.getloadavg()[0], 2)], "cpus": os.cpu_count(),
                      "targets_met": bool(t["accuracy"] and t["accuracy"] >= 0.9 and t["median_s"] <= 0.5)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
