"""The web environment end to end: real Chromium (Debian's), real pages on 127.0.0.1."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from steadyhand.core import Task
from steadyhand.core.actions import Done, WebClick, WebNavigate, WebPress, WebScroll, WebType
from steadyhand.environments.web import WebEnvironment

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")

FORM = """<html><head><title>Shop</title></head><body>
<h1>Kettle shop</h1><p>The blue kettle costs 42 euros.</p>
<form action="/submit" method="post">
  <label for="price">Price</label><input id="price" name="price">
  <button type="submit">Send</button>
</form>
<a href="/about">About us</a>
<img src="http://example.com/tracker.png" alt="">
<div style="height:3000px"></div><p>Bottom of the page</p>
</body></html>"""
ABOUT = "<html><head><title>About</title></head><body><h1>About</h1><p>We sell kettles.</p></body></html>"


@pytest.fixture(scope="module")
def env() -> Iterator[WebEnvironment]:
    environment = WebEnvironment(timeout_ms=3000)
    yield environment
    environment.close()


def task(**evaluator: object) -> Task:
    return Task(id="shop", instruction="Send the kettle's price.", environment="web",
                setup=[{"pages": {"/": FORM, "/about": ABOUT}}, {"open": "/"}], evaluator=dict(evaluator))


def test_observations_have_text_aria_and_a_screenshot(env: WebEnvironment) -> None:
    obs = env.reset(task(submit={"price": "42"}))
    assert "The blue kettle costs 42 euros." in (obs.text or "")
    assert 'button "Send"' in (obs.accessibility_tree or "") and 'textbox "Price"' in (obs.accessibility_tree or "")
    assert (obs.screenshot or b"").startswith(b"\x89PNG") and obs.info["title"] == "Shop"
    assert any("example.com" in url for url in env.blocked)  # the tracker never left the machine


def test_typing_and_clicking_submit_the_form_and_score_it(env: WebEnvironment) -> None:
    env.reset(task(submit={"price": "42"}))
    assert env.evaluate().value == 0.0
    assert env.step(WebType(field="Price", text="42")).observation.error is None
    result = env.step(WebClick(role="button", name="Send"))
    assert "Thank you" in (result.observation.text or "")
    score = env.evaluate()
    assert score.value == 1.0 and score.details["submissions"] == [{"price": "42"}]
    env.reset(task(submit={"price": "42"}))
    env.step(WebType(field="Price", text="41", submit=True))
    assert env.evaluate().value == 0.0  # a wrong answer does not count


def test_navigation_keys_scrolling_and_errors(env: WebEnvironment) -> None:
    env.reset(task())
    assert env.step(WebClick(text="About us")).observation.info["title"] == "About"
    assert env.step(WebNavigate(url="/")).observation.info["title"] == "Shop"
    blocked = env.step(WebNavigate(url="http://evil.example/steal")).observation
    assert blocked.error and "blocked" in blocked.error and blocked.info["title"] == "Shop"
    missing = env.step(WebClick(role="button", name="No such button")).observation
    assert missing.error and missing.info["title"] == "Shop"
    assert env.step(WebScroll(dy=2500)).observation.error is None
    assert env.step(WebPress(key="Tab")).observation.error is None
    assert env.step(Done()).terminated


def test_desktop_style_actions_act_on_the_page(env: WebEnvironment) -> None:
    from steadyhand.core.actions import Click, Press, Typing

    env.reset(task(submit={"price": "42"}))
    box = env.page.get_by_label("Price").bounding_box()
    env.step(Click(x=int(box["x"] + 5), y=int(box["y"] + 5)))
    env.step(Typing(text="42"))
    result = env.step(Press(key="enter"))
    assert result.observation.error is None and env.evaluate().value == 1.0
