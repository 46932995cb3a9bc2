"""HTML reports in real Chromium (Debian's, through Playwright): pages load from disk,
links work, screenshots render with their grounding overlay, nothing logs an error.

Runs come from the real runner (sql-mini with the scripted oracle, and with a model
that only writes garbage); the run with screenshots, grounding decisions and guard
verdicts is written through the store the way the runner writes one.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from steadyhand.agents.base import StepRecord
from steadyhand.agents.sql import write_oracle_script
from steadyhand.core import ConfigurationError
from steadyhand.core.score import Score
from steadyhand.evals import ResultStore, RunConfig, resolve_suite, run_suite
from steadyhand.evals.report import write_comparison, write_report

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
HOSTILE = "<script>window.__pwned = 1</script><b>bold?</b>"


def _png(width: int, height: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), "#e9edf3")
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 30, 200, 70), fill="#3a6ee8")
    draw.text((50, 42), "Save", fill="white")
    draw.rectangle((260, 120, 420, 150), outline="#222")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _grounded_run(store: ResultStore) -> str:
    """A two-episode desktop-style run: screenshots, grounding decisions and guard verdicts."""
    run_id = store.create_run(suite="desk-fake", agent="s2", model="scripted:fake", config={},
                              task_ids=["save-file", "open-menu"], difficulties=["easy", "hard"])
    shot = _png(480, 200)
    episode_id, _ = store.start_episode(run_id, "save-file")
    store.add_step(episode_id, StepRecord(
        index=0, action={"kind": "desktop.click", "x": 120, "y": 50}, rationale="Click the Save button. " + HOSTILE,
        observation={"kind": "screen", "size": [480, 200]}, duration_s=0.8, model_latency_s=0.5,
        input_tokens=900, output_tokens=40, screenshot=shot,
        grounding=[{"expert": "textual", "outcome": "low_confidence", "confidence": 0.4, "latency_s": 0.05,
                    "target": {"kind": "point", "x": 330, "y": 135}, "error": None, "details": None},
                   {"expert": "visual", "outcome": "accepted", "confidence": 0.93, "latency_s": 0.3,
                    "target": {"kind": "box", "left": 40, "top": 30, "width": 160, "height": 40},
                    "error": None, "details": None}],
        guard_verdicts=[{"guard": "no-destructive", "decision": "allow", "reason": "a click"}]))
    store.add_step(episode_id, StepRecord(
        index=1, action={"kind": "desktop.type", "text": "rm -rf /"}, rationale="Type a command.",
        screenshot=shot, guard_verdicts=[{"guard": "no-destructive", "allowed": False,
                                          "reason": "destructive shell command"}]))
    store.finish_episode(episode_id, status="done", score=Score(value=1.0, components={"partial_reward": 1.0}),
                         outcome="submitted", steps=2, input_tokens=900, output_tokens=40, duration_s=1.2)
    episode_id, _ = store.start_episode(run_id, "open-menu")
    store.finish_episode(episode_id, status="error", score=None, outcome="error",
                         error="ValueError: the model " + HOSTILE, steps=0)
    store.set_run_status(run_id, "finished")
    return run_id


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A store with an oracle sql-mini run, a garbage-model sql-mini run and a grounded run."""
    folder = tmp_path_factory.mktemp("report")
    oracle = write_oracle_script(resolve_suite("sql-mini").load(), folder / "oracle.json")
    garbage = folder / "garbage.yaml"
    garbage.write_text(yaml.safe_dump({"default": "no SQL from me"}))
    url = f"sqlite:///{folder / 'results.db'}"
    good = run_suite(RunConfig(suite="sql-mini", model=f"scripted:{oracle}", limit=4), store_url=url, progress=False)
    bad = run_suite(RunConfig(suite="sql-mini", model=f"scripted:{garbage}", limit=4), store_url=url,
                    progress=False)
    store = ResultStore(url)
    grounded = _grounded_run(store)
    yield {"store": store, "url": url, "good": good.run_id, "bad": bad.run_id, "grounded": grounded,
           "folder": folder}
    store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (no browser download)")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Page:
    """A browser page that records console errors, page errors and failed loads."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url}"))

    def open(self, path: Path) -> Any:
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_load_state("load")
        return self.page

    def images_render(self) -> list[int]:
        """naturalWidth of every image on the page."""
        return list(self.page.eval_on_selector_all("img", "els => els.map(e => e.complete ? e.naturalWidth : 0)"))


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    p = Page(browser)
    yield p
    p.context.close()


def test_run_report_loads_and_navigates(runs: dict[str, Any], page: Page, tmp_path: Path) -> None:
    index = write_report(runs["store"], runs["good"], tmp_path / "out")
    p = page.open(index)
    assert "sql-mini" in p.title()
    rows = p.locator("#episodes tr")
    assert rows.count() == 1 + 4
    assert p.locator("tr.total td").nth(2).inner_text() == "100.0%"
    first_task = runs["store"].episodes(runs["good"])[0]["task_id"]
    p.locator("#episodes a").first.click()
    p.wait_for_load_state("load")
    assert first_task in p.locator("h1").inner_text()
    assert p.locator("#evaluation").inner_text().count("1") >= 1
    assert p.locator("section.step").count() >= 1 and "sql.submit" in p.locator("section.step").last.inner_text()
    assert p.locator("#prev").count() == 0
    p.locator("#next").click()
    p.wait_for_load_state("load")
    second_task = runs["store"].episodes(runs["good"])[1]["task_id"]
    assert second_task in p.locator("h1").inner_text()
    p.locator("#up").click()
    p.wait_for_load_state("load")
    assert p.url == index.resolve().as_uri()
    assert page.errors == []


def test_screenshots_render_with_the_grounding_overlay(runs: dict[str, Any], page: Page, tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_report(runs["store"], runs["grounded"], out)
    shots = sorted(out.glob("episodes/*/step-*.png"))
    assert [s.name for s in shots] == ["step-000.png", "step-001.png"]
    p = page.open(next(out.glob("episodes/0000-*.html")))
    assert page.images_render() == [480, 480]
    first = p.locator("#step-0")
    # the accepted box, the unused point and the action's click point
    assert first.locator("svg rect").count() == 1 and first.locator("svg circle").count() == 2
    assert first.locator("svg rect").get_attribute("x") == "40"
    assert first.locator("table.grounding tr").count() == 3
    text = first.inner_text()
    assert "visual" in text and "accepted" in text and "low_confidence" in text
    assert HOSTILE in first.locator(".rationale").inner_text()  # shown as text, never run
    assert p.evaluate("window.__pwned === undefined")
    second = p.locator("#step-1").locator("table.verdicts").inner_text()
    assert "block" in second and "destructive shell command" in second
    assert p.locator("#step-1 svg").count() == 0  # nothing grounded: no overlay
    p.screenshot(path=str(tmp_path / "episode.png"), full_page=True)
    if (keep := Path("/tmp/steadyhand-report-shots")).exists():
        shutil.copy(tmp_path / "episode.png", keep / "episode.png")
    p.locator("#next").click()
    p.wait_for_load_state("load")
    assert "open-menu" in p.locator("h1").inner_text() and "ValueError" in p.locator("#evaluation").inner_text()
    assert p.evaluate("window.__pwned === undefined")
    assert page.errors == []


def test_comparison_has_tables_plots_and_links(runs: dict[str, Any], page: Page, tmp_path: Path) -> None:
    index = write_comparison(runs["store"], [runs["good"], runs["bad"]], tmp_path / "cmp")
    p = page.open(index)
    assert p.locator("#runs tr").count() == 3
    overall = p.locator("#groups tr.total").inner_text()
    assert "100.0%" in overall and "0.0%" in overall
    assert p.locator(".plots svg").count() == 3
    assert p.locator("#tasks tr").count() == 1 + 4
    p.locator("#tasks a").first.click()
    p.wait_for_load_state("load")
    assert "sql-mini" in p.locator("header").inner_text() and p.locator("#evaluation").count() == 1
    p.go_back()
    p.locator("#runs a").nth(1).click()
    p.wait_for_load_state("load")
    assert runs["bad"] in p.locator("header").inner_text()
    p.locator("#back").click()
    p.wait_for_load_state("load")
    assert p.url == index.resolve().as_uri()
    p.screenshot(path=str(tmp_path / "compare.png"), full_page=True)
    if (keep := Path("/tmp/steadyhand-report-shots")).exists():
        shutil.copy(tmp_path / "compare.png", keep / "compare.png")
    assert page.errors == []


def test_unknown_runs_are_refused(runs: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no run"):
        write_report(runs["store"], "no-such-run", tmp_path)
    with pytest.raises(ConfigurationError, match="at least one"):
        write_comparison(runs["store"], [], tmp_path)


def test_cli_writes_reports(runs: dict[str, Any], tmp_path: Path) -> None:
    from steadyhand.cli import app

    cli = CliRunner()
    result = cli.invoke(app, ["report", runs["grounded"], "--out", str(tmp_path / "one"), "--db", runs["url"]])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "one" / "index.html").is_file() and len(list(tmp_path.glob("one/episodes/*.html"))) == 2
    result = cli.invoke(app, ["compare", runs["good"], runs["bad"], "--out", str(tmp_path / "two"),
                              "--db", runs["url"]])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "two" / "runs" / runs["bad"] / "index.html").is_file()
    result = cli.invoke(app, ["report", "no-such-run", "--out", str(tmp_path / "x"), "--db", runs["url"]])
    assert result.exit_code == 2 and "no run" in result.output


def test_png_size_reads_the_header_and_refuses_other_bytes() -> None:
    from steadyhand.evals.report.build import png_size

    assert png_size(_png(31, 17)) == (31, 17)
    assert png_size(b"\xff\xd8\xff\xe0 a jpeg") is None and png_size(b"") is None
