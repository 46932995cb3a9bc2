"""The android_ui grounding expert on the simulated device's real observations.

Each step grounds a description with the expert and taps (or types at) the centre
of the box it returned; the device's state shows whether the box was the right one.
"""

from __future__ import annotations

import pytest

from steadyhand.core.actions import AndroidClick, AndroidInputText, AndroidNavigateHome, AndroidStatus
from steadyhand.core.observation import Observation
from steadyhand.environments.android.environment import AndroidEnvironment
from steadyhand.environments.android.suites import load_android_mini
from steadyhand.tools.grounding.base import BoxTarget, GroundingError, GroundingRequest
from steadyhand.tools.grounding.experts.android_ui import AndroidUIExpert


def _center(observation: Observation, description: str, action: str = "click") -> tuple[int, int]:
    result = AndroidUIExpert().ground(GroundingRequest(action=action, description=description), observation)
    assert isinstance(result.target, BoxTarget) and result.confidence >= 0.6
    return result.target.center


def test_it_grounds_a_note_being_written_on_the_device(env: AndroidEnvironment) -> None:
    task = next(t for t in load_android_mini() if t.id == "note_create")
    obs = env.reset(task)
    x, y = _center(obs, "the Notes app icon")
    obs = env.step(AndroidClick(x=x, y=y)).observation
    assert any(e["content_desc"] == "New note" for e in obs.info["ui_elements"])
    x, y = _center(obs, "the new note button")
    obs = env.step(AndroidClick(x=x, y=y)).observation
    for description, text in (("the title field", "groceries"), ("the note body", "milk, eggs, bread")):
        x, y = _center(obs, description, "type")
        obs = env.step(AndroidInputText(text=text, x=x, y=y)).observation
        assert obs.error is None
    x, y = _center(obs, 'the "Save" button')
    obs = env.step(AndroidClick(x=x, y=y)).observation
    env.step(AndroidStatus(goal_status="complete"))
    assert env.evaluate().value == 1.0


def test_it_misses_what_the_device_does_not_show(env: AndroidEnvironment) -> None:
    obs = env.step(AndroidNavigateHome()).observation
    with pytest.raises(GroundingError, match="no UI element matches"):
        AndroidUIExpert().ground(GroundingRequest(action="click", description='the "Bluetooth" switch'), obs)
