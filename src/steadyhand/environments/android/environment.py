"""The ``android`` environment: AndroidWorld's action set on a device reached over ADB.

    env = AndroidEnvironment(provider="serial", provider_options={"serial": "emulator-5554"})
    obs = env.reset(task)                           # task state set up through adb shell
    result = env.step(AndroidClick(index=3))        # or AndroidClick(x=540, y=1200)
    score = env.evaluate()                          # task state checked through adb shell
    env.close()

Observations: the screenshot (``screencap -p``, PNG) and the UI elements of
``uiautomator dump`` — numbered in ``accessibility_tree`` (one line each, the
numbers the actions' ``index`` takes) and as dicts in ``info["ui_elements"]``
(bounds in screenshot pixels, the structural candidates for grounding).

Actions: the ``android.*`` kinds of the Action union, AndroidWorld ``JSONAction``
dicts (``{"action_type": "click", "index": 3}``), Wait / Done / Fail (as wait,
status complete, status infeasible), and the desktop actions a phone can honour
(a click at a point is a tap; see :func:`~.actions.plan_desktop_action`). ``status`` terminates the episode; the step
budget (``int(10 * complexity)``) truncates it. A bad action — an index off the
list, an unknown app, text the keyboard cannot type, a command the device
refuses — comes back as ``Observation.error``; a device that stops answering
raises :class:`~steadyhand.core.errors.EnvironmentFault`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from steadyhand.core.actions import ActionBase, parse_action
from steadyhand.core.errors import ConfigurationError, EnvironmentFault, ModelOutputError
from steadyhand.core.observation import Observation, StepResult
from steadyhand.core.registry import environments
from steadyhand.core.score import Score
from steadyhand.core.task import Task
from steadyhand.environments.android.actions import DEFAULT_APPS, ActionError, from_json_action, plan_action
from steadyhand.environments.android.device import AdbCommandError, AndroidDevice
from steadyhand.environments.android.providers import AndroidProvider, get_provider
from steadyhand.environments.android.tasks import AndroidTask, Outcome
from steadyhand.environments.android.uiautomator import UIDumpError, UIElement, describe_elements, screen_elements


@dataclass
class AndroidConfig:
    """Options of :class:`AndroidEnvironment` (also its constructor's keyword arguments).

    Attributes:
        provider: ``simulated``, ``serial`` or ``docker``.
        provider_options: keyword arguments for the provider (``serial=``, ``image=``...).
        serial: shortcut for ``provider="serial"`` with that serial.
        screenshot: take a screenshot per observation.
        ui_elements: dump the UI per observation (indices need it).
        settle_s: pause after each action before observing (real devices animate).
        apps: extra app names (lower case) -> launch components for ``open_app``.
        max_steps: overrides every task's step budget.
        dump_retries: extra tries when ``uiautomator dump`` fails (busy screens).
        timeout_s: per ADB command.
    """

    provider: str = "simulated"
    provider_options: dict[str, Any] = field(default_factory=dict)
    serial: str | None = None
    screenshot: bool = True
    ui_elements: bool = True
    settle_s: float = 0.0
    apps: dict[str, str] = field(default_factory=dict)
    max_steps: int | None = None
    dump_retries: int = 2
    timeout_s: float = 60.0


class AndroidEnvironment:
    """An :class:`~steadyhand.core.environment.Environment` over one Android device.

    Keyword arguments are the fields of :class:`AndroidConfig`. The device is
    obtained on the first ``reset`` and kept for later ones (each task resets the
    state it needs); ``close`` releases it.
    """

    def __init__(self, **options: Any) -> None:
        known = set(AndroidConfig.__dataclass_fields__)
        unknown = set(options) - known
        if unknown:
            raise ConfigurationError(f"unknown android option(s) {sorted(unknown)}; known: {sorted(known)}")
        self.config = AndroidConfig(**options)
        provider_options = dict(self.config.provider_options)
        name = self.config.provider
        if self.config.serial is not None:
            name = "serial" if name == "simulated" else name
            provider_options.setdefault("serial", self.config.serial)
        self.provider: AndroidProvider = get_provider(name, **provider_options)
        self.apps = {**DEFAULT_APPS, **{k.lower(): v for k, v in self.config.apps.items()}}
        self.device: AndroidDevice | None = None
        self.task: AndroidTask | None = None
        self.elements: list[UIElement] = []
        self.screen_size: tuple[int, int] = (0, 0)
        self.steps = 0
        self.answer: str | None = None
        self.status: str | None = None

    # --- lifecycle ---------------------------------------------------------------------------------

    def _device(self) -> AndroidDevice:
        if self.device is None:
            self.device = AndroidDevice(self.provider.start(), timeout_s=self.config.timeout_s)
        return self.device

    @property
    def max_steps(self) -> int:
        if self.config.max_steps is not None:
            return self.config.max_steps
        return self.task.max_steps if self.task is not None else 0

    def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        """Initialize ``task`` on the device and observe (``text`` is the instruction).

        Raises:
            DatasetError: the task is malformed.
            ConfigurationError: the provider cannot give a device here.
            EnvironmentFault: the device did not answer, or a setup command failed.
        """
        self.task = AndroidTask.from_task(task)
        device = self._device()
        self.steps, self.answer, self.status, self.elements = 0, None, None, []
        try:
            self.task.initialize(device)
        except AdbCommandError as exc:
            raise EnvironmentFault(f"task {task.id}: setup failed: {exc}") from exc
        self.screen_size = device.screen_size()
        obs = self._observe()
        return obs.model_copy(update={"text": task.instruction})

    def step(self, action: ActionBase | dict[str, Any]) -> StepResult:
        """Carry out one action and observe.

        Raises:
            ConfigurationError: called before ``reset``.
            EnvironmentFault: the device stopped answering.
        """
        device = self._require_device()
        self.steps += 1
        try:
            parsed = self._parse(action)
            plan = plan_action(parsed, self.elements, self.screen_size, self.apps)
            for command in plan.commands:
                device.shell(command)
        except (ActionError, AdbCommandError) as exc:
            return self._result(error=str(exc))
        if plan.pause_s:
            time.sleep(plan.pause_s)
        if plan.answer is not None:
            self.answer = plan.answer
        if plan.status is not None:
            self.status = plan.status
        elif plan.commands and self.config.settle_s:
            time.sleep(self.config.settle_s)
        return self._result(terminated=plan.status is not None)

    def _parse(self, action: ActionBase | dict[str, Any]) -> ActionBase:
        if isinstance(action, ActionBase):
            return action
        if isinstance(action, dict) and "action_type" in action:
            return from_json_action(action)
        if isinstance(action, dict):
            try:
                return parse_action(action)
            except ModelOutputError as exc:
                raise ActionError(str(exc)) from exc
        raise ActionError(f"an action must be an Action or a dict, not {type(action).__name__}")

    def _result(self, *, error: str | None = None, terminated: bool = False) -> StepResult:
        truncated = not terminated and self.steps >= self.max_steps
        info: dict[str, Any] = {"error": "invalid_action"} if error else {}
        if terminated:
            info["status"] = self.status
        return StepResult(observation=self._observe(error=error), terminated=terminated, truncated=truncated,
                          info=info)

    def evaluate(self) -> Score:
        """The task's checks on the device's state (and the agent's answer and status).

        Raises:
            ConfigurationError: called before ``reset``.
            EnvironmentFault: the device did not answer.
        """
        if self.task is None:
            raise ConfigurationError("evaluate() before reset(): there is no task")
        score = self.task.is_successful(self._require_device(), Outcome(answer=self.answer, status=self.status))
        return score.model_copy(update={"details": {**score.details, "steps": self.steps}})

    def close(self) -> None:
        """Release the device (the provider stops what it started)."""
        self.device = None
        self.provider.close()

    # --- observations -------------------------------------------------------------------------------

    def _require_device(self) -> AndroidDevice:
        if self.device is None or self.task is None:
            raise ConfigurationError("call reset(task) before step() or evaluate()")
        return self.device

    def _dump(self, device: AndroidDevice) -> tuple[list[UIElement], str | None]:
        problem = None
        for _ in range(self.config.dump_retries + 1):
            try:
                return screen_elements(device.ui_dump()), None
            except (AdbCommandError, UIDumpError) as exc:
                problem = str(exc)
        return [], problem

    def _observe(self, *, error: str | None = None) -> Observation:
        device = self._require_device()
        package, activity = device.foreground()
        info: dict[str, Any] = {"step": self.steps, "max_steps": self.max_steps, "screen_size": list(self.screen_size),
                                "package": package, "activity": activity, "device": str(device.endpoint)}
        data: dict[str, Any] = {"error": error, "info": info}
        if self.config.screenshot:
            data["screenshot"] = device.screenshot()
        if self.config.ui_elements:
            self.elements, problem = self._dump(device)
            if problem:
                info["ui_error"] = problem
            data["accessibility_tree"] = describe_elements(self.elements)
            info["ui_elements"] = [e.model_dump(mode="json") for e in self.elements]
        if self.answer is not None:
            info["answer"] = self.answer
        return Observation(**data)


environments.register("android", AndroidEnvironment)
