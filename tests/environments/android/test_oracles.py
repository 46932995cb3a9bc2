"""Each android-mini oracle solves its task on the simulated device, and doing nothing fails it."""

from __future__ import annotations

import pytest

from steadyhand.environments.android.environment import AndroidEnvironment
from steadyhand.environments.android.oracle import OracleError, load_oracles, run_oracle
from steadyhand.environments.android.suites import load_android_mini

TASKS = {t.id: t for t in load_android_mini()}
ORACLES = load_oracles()


@pytest.mark.parametrize("task_id", sorted(TASKS))
def test_oracle_solves_and_doing_nothing_fails(env: AndroidEnvironment, task_id: str) -> None:
    task = TASKS[task_id]
    env.reset(task)
    idle = env.evaluate()
    assert idle.value == 0.0, idle.details
    score, results = run_oracle(env, task, ORACLES[task_id])
    assert score.value == 1.0, score.details
    assert results[-1].terminated and len(results) <= env.max_steps
    # the state the oracle left is undone by the next reset
    env.reset(task)
    assert env.evaluate().value == 0.0


def test_an_oracle_target_that_is_not_on_screen_is_named(env: AndroidEnvironment) -> None:
    with pytest.raises(OracleError, match=r"no element matches \{'text': 'Nowhere'\}; the screen shows"):
        run_oracle(env, TASKS["wifi_off"], [{"kind": "android.click", "target": {"text": "Nowhere"}}])
