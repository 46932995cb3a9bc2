"""DesktopEnvironment on real local desktops: actions of every form, errors, a dying server."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from steadyhand.core.actions import Click, Done, Fail, Hotkey, MoveTo, Typing, Wait
from steadyhand.core.errors import ConfigurationError, EnvironmentFault
from steadyhand.core.registry import environments
from steadyhand.core.task import Task
from steadyhand.environments.desktop.environment import DesktopEnvironment
from steadyhand.environments.desktop.providers.local import LocalDesktop, missing_programs

pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(bool(missing_programs()), reason=f"local desktops need {', '.join(missing_programs())}"),
]

TASK = Task(id="t1", instruction="Move the pointer around.", environment="desktop")
INFEASIBLE = Task(id="t2", instruction="Fly to the moon.", environment="desktop",
                  setup=[{"type": "execute", "parameters": {"command": ["touch", "/tmp/setup-ran"]}}],
                  evaluator={"func": "infeasible"})


@pytest.fixture()
def env() -> Iterator[DesktopEnvironment]:
    environment = environments.get("desktop")(provider="local", accessibility_tree=False, terminal=False)
    assert isinstance(environment, DesktopEnvironment)
    try:
        yield environment
    finally:
        environment.close()


def test_actions_of_every_form_move_the_real_pointer(env: DesktopEnvironment) -> None:
    first = env.reset(TASK)
    assert first.text == TASK.instruction and first.screenshot and first.screenshot.startswith(b"\x89PNG")
    assert env.screen_size() == (1280, 720)
    client = env.client
    assert client is not None

    assert not env.step(MoveTo(x=10, y=20)).observation.error
    assert client.cursor_position() == (10, 20)
    env.step("import pyautogui\npyautogui.moveTo(30, 40)")
    assert client.cursor_position() == (30, 40)
    env.step({"action_type": "MOVE_TO", "parameters": {"x": 50, "y": 60}})
    assert client.cursor_position() == (50, 60)
    env.step({"kind": "desktop.click", "x": 70, "y": 80})
    assert client.cursor_position() == (70, 80)
    env.step(Click(x=5, y=5, button="right"))
    env.step(Hotkey(keys=["esc"]))
    assert client.cursor_position() == (5, 5)

    waited = env.step(Wait(seconds=0))
    assert not waited.terminated and waited.observation.screenshot


def test_bad_actions_become_error_observations(env: DesktopEnvironment) -> None:
    env.reset(TASK)
    bad = env.step("import subprocess\nsubprocess.run(['id'])")
    assert not bad.terminated and bad.observation.error and "'subprocess'" in bad.observation.error
    assert bad.observation.screenshot  # the agent still sees the screen
    assert "unknown computer_13" in (env.step({"action_type": "JUMP"}).observation.error or "")
    assert "unknown key" in (env.step("pyautogui.press('hyperdrive')").observation.error or "")
    assert "cannot run" in (env.step({"kind": "sql.execute", "query": "select 1"}).observation.error or "")
    assert env.step(Typing(text="ok")).observation.error is None


def test_done_and_fail_terminate_and_are_remembered(env: DesktopEnvironment) -> None:
    env.reset(TASK)
    result = env.step(Done())
    assert result.terminated and isinstance(env.last_action, Done)
    result = env.step("FAIL")
    assert result.terminated and isinstance(env.last_action, Fail)
    env.step({"action_type": "DONE"})
    assert isinstance(env.last_action, Done)


def test_each_reset_gets_a_fresh_desktop_and_a_dead_one_is_replaced(env: DesktopEnvironment) -> None:
    env.reset(TASK)
    first = env.desktop
    assert isinstance(first, LocalDesktop)
    env.client.upload_file("~/left-behind.txt", b"x")  # type: ignore[union-attr]
    env.reset(TASK)
    second = env.desktop
    assert isinstance(second, LocalDesktop) and second is not first and not first.alive()
    with pytest.raises(FileNotFoundError):
        env.client.get_file("~/left-behind.txt")  # type: ignore[union-attr]

    # The server dies mid-episode: an EnvironmentFault, never a hang or a bad observation.
    os.kill(second.proc.pid, signal.SIGKILL)
    second.proc.wait()
    with pytest.raises(EnvironmentFault):
        env.step(MoveTo(x=1, y=1))
    env.reset(TASK)  # the runner's next episode gets a working desktop
    assert env.desktop is not second and env.desktop is not None and env.desktop.alive()
    assert env.step(MoveTo(x=3, y=4)).observation.error is None


def test_setup_runs_and_evaluation_scores_the_last_action(env: DesktopEnvironment) -> None:
    env.reset(INFEASIBLE)
    assert env.client is not None and env.client.execute(["ls", "/tmp/setup-ran"])["returncode"] == 0
    env.step(MoveTo(x=1, y=1))
    assert env.evaluate().value == 0.0
    env.step(Fail(reason="no rocket"))
    assert env.evaluate().value == 1.0


def test_observation_switches(env: DesktopEnvironment) -> None:
    env.config.screenshot = False
    env.config.accessibility_tree = True
    env.config.terminal = True
    obs = env.reset(TASK)
    assert obs.screenshot is None
    assert obs.accessibility_tree is not None and obs.accessibility_tree.startswith("<desktop-frame")
    assert obs.terminal is None  # no terminal is open


def test_bad_configuration_is_reported() -> None:
    with pytest.raises(ConfigurationError, match="unknown desktop option"):
        DesktopEnvironment(provider="local", colour="blue")
    with pytest.raises(ConfigurationError, match="needs url"):
        DesktopEnvironment(provider="remote")
    with pytest.raises(ConfigurationError, match="unknown desktop provider"):
        DesktopEnvironment(provider="vmware")
    env = DesktopEnvironment(provider="local")
    with pytest.raises(ConfigurationError, match="reset"):
        env.step(MoveTo(x=1, y=1))
