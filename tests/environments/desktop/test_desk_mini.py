"""The desk-mini suite: well-formed, and on real desktops every oracle scores 1 and doing nothing 0.

The desktop tiers start real desktops (local Xvfb sessions, or docker containers) with
the real apps (xterm, Mousepad, LibreOffice Calc) and replay each task's oracle through
:class:`DesktopEnvironment`. LibreOffice tasks are also marked ``slow``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest

from steadyhand.core import DatasetError, Fail, Task
from steadyhand.environments.desktop.environment import DesktopEnvironment, action_code
from steadyhand.environments.desktop.osworld import Capabilities, check_task, missing_components
from steadyhand.environments.desktop.providers.local import missing_programs
from steadyhand.environments.desktop.suites import DESK_MINI_DIR, desk_mini
from steadyhand.environments.desktop.suites.oracle import load_oracle, run_oracle
from steadyhand.evals.suites import resolve_suite

TASKS = list(desk_mini.load())
APPS = ("xterm", "mousepad", "soffice")
local_desktop_missing = [*missing_programs(), *(p for p in APPS if shutil.which(p) is None)]


def _marks(task: Task, tier: str) -> list[pytest.MarkDecorator]:
    marks = [getattr(pytest.mark, tier)]
    if tier != "desktop":
        marks.append(pytest.mark.desktop)
    if "libreoffice_calc" in task.metadata["related_apps"] or tier == "docker":
        marks.append(pytest.mark.slow)
    return marks


def _params(tier: str) -> list[object]:
    return [pytest.param(task, id=task.id, marks=_marks(task, tier)) for task in TASKS]


@pytest.mark.unit
def test_suite_is_registered_and_covers_the_brief() -> None:
    suite = resolve_suite("desk-mini")
    assert suite is desk_mini or suite.name == "desk-mini"
    assert suite.environment == "desktop"
    assert len(TASKS) >= 15
    assert len({t.id for t in TASKS}) == len(TASKS)
    domains = {t.metadata["domain"] for t in TASKS}
    assert {"mousepad", "terminal", "os", "libreoffice_calc"} <= domains
    assert any(t.evaluator["func"] == "infeasible" for t in TASKS)
    metrics = {f for t in TASKS for f in ([t.evaluator["func"]] if isinstance(t.evaluator["func"], str)
                                          else t.evaluator["func"])}
    assert {"compare_table", "compare_text_file", "exact_match", "check_list", "compare_csv"} <= metrics
    saved = " ".join(str(t.evaluator.get("result")) for t in TASKS)
    assert ".xlsx" in saved and ".ods" in saved


@pytest.mark.unit
@pytest.mark.parametrize("task", TASKS, ids=[t.id for t in TASKS])
def test_task_is_supported_and_its_oracle_is_valid(task: Task) -> None:
    assert missing_components(task) == []
    everything = Capabilities(lambda program: True)  # local files and gold files must all resolve
    assert check_task(task, everything).problems == ()
    actions = load_oracle(task)
    parsed = [action_code(a) for a in actions]  # raises on malformed code or unknown kinds
    ends_in_fail = isinstance(parsed[-1], Fail)
    assert ends_in_fail == (task.evaluator["func"] == "infeasible")
    assert not any(isinstance(a, Fail) for a in parsed[:-1])


@pytest.mark.unit
def test_missing_oracle_is_a_dataset_error() -> None:
    task = TASKS[0].model_copy(update={"metadata": {**TASKS[0].metadata, "path": str(DESK_MINI_DIR / "x.json")}})
    with pytest.raises(DatasetError, match="no oracle script"):
        load_oracle(task)


def _solve(env: DesktopEnvironment, task: Task) -> None:
    env.reset(task)
    nothing = env.evaluate()
    assert nothing.value == 0.0, f"doing nothing scored {nothing}"
    assert nothing.error is None, nothing.error
    assert env.client is not None
    run_oracle(env, task, screen=env.client)
    solved = env.evaluate()
    assert solved.value == 1.0, f"the oracle scored {solved}"


@pytest.fixture(scope="module")
def local_env() -> Iterator[DesktopEnvironment]:
    if local_desktop_missing:
        pytest.skip(f"local desktops need {', '.join(local_desktop_missing)}")
    env = DesktopEnvironment(provider="local")
    yield env
    env.close()


@pytest.mark.parametrize("task", _params("desktop"))
def test_oracle_scores_one_and_nothing_scores_zero_locally(local_env: DesktopEnvironment, task: Task) -> None:
    _solve(local_env, task)


def _docker_missing() -> str | None:
    if shutil.which("docker") is None:
        return "no docker CLI"
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return "no Docker daemon answers (bash scripts/dockerd.sh)"
    return None


@pytest.fixture(scope="module")
def docker_env() -> Iterator[DesktopEnvironment]:
    reason = _docker_missing()
    if reason:
        pytest.skip(reason)
    env = DesktopEnvironment(provider="docker")
    yield env
    env.close()


@pytest.mark.parametrize("task", _params("docker"))
def test_oracle_scores_one_and_nothing_scores_zero_in_docker(docker_env: DesktopEnvironment, task: Task) -> None:
    _solve(docker_env, task)
