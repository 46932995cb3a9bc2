"""The android environment end to end on the simulated device (a test double for an emulator)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from steadyhand.core.actions import (
    AndroidAnswer,
    AndroidClick,
    AndroidInputText,
    AndroidNavigateHome,
    AndroidOpenApp,
    AndroidScroll,
    AndroidStatus,
    ExecuteSQL,
)
from steadyhand.core.errors import ConfigurationError, DatasetError
from steadyhand.core.registry import environments
from steadyhand.core.task import Task
from steadyhand.environments.android.environment import AndroidEnvironment
from steadyhand.environments.android.oracle import elements_of, find_element
from steadyhand.environments.android.suites import load_android_mini


def _task(task_id: str) -> Task:
    return next(t for t in load_android_mini() if t.id == task_id)


def test_registered_and_options_checked() -> None:
    assert environments.get("android") is AndroidEnvironment
    with pytest.raises(ConfigurationError, match="unknown android option"):
        AndroidEnvironment(screen=True)
    with pytest.raises(ConfigurationError, match="unknown Android provider"):
        AndroidEnvironment(provider="cloud")
    with pytest.raises(ConfigurationError, match="reset"):
        AndroidEnvironment().step(AndroidNavigateHome())


def test_reset_observes_the_home_screen(env: AndroidEnvironment) -> None:
    obs = env.reset(_task("wifi_off"))
    assert obs.text == "Turn off Wi-Fi."
    assert Image.open(io.BytesIO(obs.screenshot or b"")).size == (1080, 2400)
    assert obs.info["package"] == "com.android.launcher3" and obs.info["screen_size"] == [1080, 2400]
    assert obs.info["max_steps"] == 10 and obs.info["step"] == 0
    settings = find_element({"text": "Settings"}, elements_of(obs))
    assert f'[{settings.index}] TextView "Settings"' in (obs.accessibility_tree or "")


def test_actions_by_index_and_by_point_change_the_device(env: AndroidEnvironment) -> None:
    obs = env.reset(_task("bluetooth_on"))
    index = find_element({"text": "Settings"}, elements_of(obs)).index
    result = env.step(AndroidClick(index=index))
    assert result.observation.info["package"] == "com.android.settings" and not result.observation.error
    x, y = find_element({"text": "Connected devices"}, elements_of(result.observation)).center
    result = env.step({"action_type": "click", "x": x, "y": y})  # AndroidWorld's JSON form
    assert "Bluetooth" in (result.observation.accessibility_tree or "")
    assert env.evaluate().value == 0.0
    x, y = find_element({"text": "Bluetooth"}, elements_of(result.observation)).center
    env.step(AndroidClick(x=x, y=y))
    score = env.evaluate()
    assert score.value == 1.0 and score.details["steps"] == 3


def test_scroll_down_reveals_what_is_below(env: AndroidEnvironment) -> None:
    env.reset(_task("time_24h"))
    obs = env.step(AndroidOpenApp(app_name="settings")).observation
    assert "About phone" not in (obs.accessibility_tree or "")
    obs = env.step(AndroidScroll(direction="down")).observation
    assert '"About phone"' in (obs.accessibility_tree or "")
    obs = env.step(AndroidScroll(direction="up")).observation
    assert '"Network & internet"' in (obs.accessibility_tree or "")


def test_bad_actions_are_error_observations_and_change_nothing(env: AndroidEnvironment) -> None:
    env.reset(_task("note_create"))
    obs = env.step(AndroidOpenApp(app_name="Notes")).observation
    new = find_element({"desc": "New note"}, elements_of(obs))
    obs = env.step(AndroidClick(index=new.index)).observation
    for action, message in ((AndroidClick(index=999), "invalid element index 999"),
                            (AndroidInputText(text="crème brûlée"), "the device keyboard cannot type 'è'"),
                            (AndroidOpenApp(app_name="Frobnicator"), "unknown app"),
                            (ExecuteSQL(query="SELECT 1"), "cannot run 'sql.execute'"),
                            ({"kind": "android.scroll", "direction": "sideways"}, "invalid action")):
        result = env.step(action)
        assert message in (result.observation.error or ""), action
        assert result.info["error"] == "invalid_action" and not result.terminated
    title = find_element({"id": "com.example.notes:id/title"}, elements_of(result.observation))
    assert title.text == "Title"  # still the hint: nothing was typed


def test_answer_then_status_terminates_and_is_scored(env: AndroidEnvironment) -> None:
    env.reset(_task("contact_phone_answer"))
    env.step(AndroidAnswer(text="It is 555-0199."))
    result = env.step(AndroidStatus(goal_status="complete"))
    assert result.terminated and not result.truncated and result.info["status"] == "complete"
    assert env.evaluate().value == 1.0
    env.reset(_task("contact_phone_answer"))
    env.step(AndroidAnswer(text="555-0142"))
    score = env.evaluate()
    assert score.value == 0.0 and "want the digits 5550199" in score.details["0:answer"]


def test_the_step_budget_truncates(env: AndroidEnvironment) -> None:
    env.reset(_task("wifi_off"))  # complexity 1.0: 10 steps
    results = [env.step(AndroidNavigateHome()) for _ in range(10)]
    assert [r.truncated for r in results] == [False] * 9 + [True]
    assert not any(r.terminated for r in results)


def test_a_malformed_task_is_refused_before_the_device_is_touched() -> None:
    env = AndroidEnvironment(provider="simulated")
    try:
        with pytest.raises(DatasetError, match="item bad"):
            env.reset(Task(id="bad", instruction="x", environment="android", evaluator={"checks": []}))
        assert env.device is None
    finally:
        env.close()
