"""Android tasks: set up device state through ADB, and check it through ADB afterwards.

A task is a :class:`~steadyhand.core.task.Task` with ``environment="android"``;
:class:`AndroidTask` is its validated, typed form::

    Task(id="wifi_off", instruction="Turn off Wi-Fi.", environment="android",
         setup=[{"type": "settings", "namespace": "global", "key": "wifi_on", "value": "1"}],
         evaluator={"checks": [{"type": "setting", "namespace": "global", "key": "wifi_on", "equals": "0"}]},
         metadata={"complexity": 1.0, "apps": ["com.android.settings"]})

``initialize(device)`` stops the task's apps, runs its setup steps (``settings``,
``write_file``, ``remove``, ``content_insert``, ``content_delete``, ``force_stop``,
``shell``) and goes to the home screen; ``is_successful(device, ...)`` runs its checks
(``setting``, ``file``, ``content``, ``answer``, ``status``) and returns a
:class:`~steadyhand.core.score.Score` (1 only when every check passes). The step
budget is ``int(10 * complexity)``, as in AndroidWorld.
"""

from __future__ import annotations

import posixpath
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from steadyhand.core.errors import DatasetError
from steadyhand.core.score import Score
from steadyhand.core.task import Task
from steadyhand.environments.android.device import AdbCommandError, AndroidDevice


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- setup steps ----------------------------------------------------------------------------------


class SettingsStep(_Spec):
    """``settings put NAMESPACE KEY VALUE``."""

    type: Literal["settings"] = "settings"
    namespace: Literal["system", "secure", "global"]
    key: str
    value: str

    def run(self, device: AndroidDevice) -> None:
        device.put_setting(self.namespace, self.key, self.value)


class WriteFileStep(_Spec):
    """Create ``path`` (and its folder) with ``text``."""

    type: Literal["write_file"] = "write_file"
    path: str
    text: str = ""

    def run(self, device: AndroidDevice) -> None:
        device.shell(["mkdir", "-p", posixpath.dirname(self.path)])
        device.write_file(self.path, self.text.encode("utf-8"))


class RemoveStep(_Spec):
    """``rm -rf PATH`` (missing is fine)."""

    type: Literal["remove"] = "remove"
    path: str

    def run(self, device: AndroidDevice) -> None:
        device.shell(["rm", "-rf", self.path])


class ContentInsertStep(_Spec):
    """``content insert --uri URI --bind k:s:v ...`` (every value bound as a string)."""

    type: Literal["content_insert"] = "content_insert"
    uri: str
    values: dict[str, str]

    def run(self, device: AndroidDevice) -> None:
        argv = ["content", "insert", "--uri", self.uri]
        for key, value in self.values.items():
            argv += ["--bind", f"{key}:s:{value}"]
        device.shell(argv)


class ContentDeleteStep(_Spec):
    """``content delete --uri URI [--where W]``."""

    type: Literal["content_delete"] = "content_delete"
    uri: str
    where: str | None = None

    def run(self, device: AndroidDevice) -> None:
        device.shell(["content", "delete", "--uri", self.uri, *(["--where", self.where] if self.where else [])])


class ForceStopStep(_Spec):
    """``am force-stop PACKAGE``."""

    type: Literal["force_stop"] = "force_stop"
    package: str

    def run(self, device: AndroidDevice) -> None:
        device.shell(["am", "force-stop", self.package])


class ShellStep(_Spec):
    """Any shell command (argument list); it must exit 0."""

    type: Literal["shell"] = "shell"
    command: list[str] = Field(min_length=1)

    def run(self, device: AndroidDevice) -> None:
        device.shell(self.command)


SetupStep = Annotated[SettingsStep | WriteFileStep | RemoveStep | ContentInsertStep | ContentDeleteStep
                      | ForceStopStep | ShellStep, Field(discriminator="type")]


# --- checks ------------------------------------------------------------------------------------------


class Outcome(BaseModel):
    """What the agent said: its last ``answer`` and its ``status`` (None when it gave none)."""

    answer: str | None = None
    status: str | None = None


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


class SettingCheck(_Spec):
    """A setting equals ``equals`` (or is one of ``one_of``)."""

    type: Literal["setting"] = "setting"
    namespace: Literal["system", "secure", "global"]
    key: str
    equals: str | None = None
    one_of: list[str] | None = None

    def check(self, device: AndroidDevice, outcome: Outcome) -> tuple[bool, str]:
        value = device.get_setting(self.namespace, self.key)
        wanted = [self.equals] if self.equals is not None else (self.one_of or [])
        want = " or ".join(map(repr, wanted))
        return value in wanted, f"settings {self.namespace} {self.key} = {value!r}, want {want}"


class FileCheck(_Spec):
    """A file exists (or not) and its text equals / contains something (whitespace-trimmed with ``strip``)."""

    type: Literal["file"] = "file"
    path: str
    exists: bool = True
    equals: str | None = None
    contains: str | None = None
    strip: bool = True

    def check(self, device: AndroidDevice, outcome: Outcome) -> tuple[bool, str]:
        try:
            text = device.read_file(self.path).decode("utf-8", "replace")
        except FileNotFoundError:
            return not self.exists, f"{self.path} does not exist" + ("" if not self.exists else ", want it to")
        if not self.exists:
            return False, f"{self.path} exists, want it gone"
        shown = text.strip() if self.strip else text
        if self.equals is not None and shown != (self.equals.strip() if self.strip else self.equals):
            return False, f"{self.path} holds {shown[:200]!r}, want {self.equals!r}"
        if self.contains is not None and self.contains not in shown:
            return False, f"{self.path} holds {shown[:200]!r}, want it to contain {self.contains!r}"
        return True, f"{self.path} as wanted"


class ContentCheck(_Spec):
    """Rows of a content provider matching ``where``: how many, and what they hold.

    ``rows``: the exact number wanted (None: at least one). ``fields``: values every
    matching row must have; ``digits``: values compared on their digits only (phone numbers).
    """

    type: Literal["content"] = "content"
    uri: str
    where: str | None = None
    rows: int | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    digits: dict[str, str] = Field(default_factory=dict)

    def check(self, device: AndroidDevice, outcome: Outcome) -> tuple[bool, str]:
        found = device.content_query(self.uri, where=self.where)
        what = f"{self.uri} where {self.where or 'true'}"
        if self.rows is not None and len(found) != self.rows:
            return False, f"{what}: {len(found)} rows, want {self.rows}"
        if self.rows is None and not found:
            return False, f"{what}: no rows"
        for row in found:
            for key, value in self.fields.items():
                if row.get(key) != value:
                    return False, f"{what}: {key}={row.get(key)!r}, want {value!r}"
            for key, value in self.digits.items():
                if _digits(row.get(key, "")) != _digits(value):
                    return False, f"{what}: {key}={row.get(key)!r}, want the digits {_digits(value)}"
        return True, f"{what}: {len(found)} rows as wanted"


class AnswerCheck(_Spec):
    """The agent's answer equals / contains a text, or has the same digits."""

    type: Literal["answer"] = "answer"
    equals: str | None = None
    contains: str | None = None
    digits: str | None = None
    case_sensitive: bool = False

    def check(self, device: AndroidDevice, outcome: Outcome) -> tuple[bool, str]:
        answer = outcome.answer
        if answer is None:
            return False, "no answer was given"
        fold = (lambda s: s.strip()) if self.case_sensitive else (lambda s: s.strip().lower())
        if self.equals is not None and fold(answer) != fold(self.equals):
            return False, f"answer {answer!r}, want {self.equals!r}"
        if self.contains is not None and fold(self.contains) not in fold(answer):
            return False, f"answer {answer!r}, want it to contain {self.contains!r}"
        if self.digits is not None and _digits(self.digits) not in _digits(answer):
            return False, f"answer {answer!r}, want the digits {_digits(self.digits)}"
        return True, f"answer {answer!r} as wanted"


class StatusCheck(_Spec):
    """The agent ended with ``status(goal_status)`` equal to ``equals`` (infeasible tasks)."""

    type: Literal["status"] = "status"
    equals: Literal["complete", "infeasible"]

    def check(self, device: AndroidDevice, outcome: Outcome) -> tuple[bool, str]:
        return outcome.status == self.equals, f"status {outcome.status!r}, want {self.equals!r}"


Check = Annotated[SettingCheck | FileCheck | ContentCheck | AnswerCheck | StatusCheck, Field(discriminator="type")]


class AndroidTask(_Spec):
    """A validated Android task (see the module docstring for the format).

    Attributes:
        id, instruction: as in :class:`~steadyhand.core.task.Task`.
        difficulty: for reports (``easy``, ``medium``, ``hard``), as AndroidWorld labels tasks.
        complexity: AndroidWorld's complexity score; the step budget is ``int(10 * complexity)``.
        apps: packages force-stopped before setup (so the task starts from their first screen).
        setup: steps run in order by :meth:`initialize`.
        checks: all must pass for success.
    """

    id: str
    instruction: str
    difficulty: Literal["easy", "medium", "hard", "unknown"] = "unknown"
    complexity: float = Field(1.0, gt=0)
    apps: list[str] = Field(default_factory=list)
    setup: list[SetupStep] = Field(default_factory=list)
    checks: list[Check] = Field(min_length=1)

    @classmethod
    def from_task(cls, task: Task) -> AndroidTask:
        """Validate a core task.

        Raises:
            DatasetError: a malformed setup step, check or metadata value (named).
        """
        data = {"id": task.id, "instruction": task.instruction, "setup": task.setup,
                "checks": task.evaluator.get("checks", []),
                "complexity": task.metadata.get("complexity", 1.0), "apps": task.metadata.get("apps", []),
                "difficulty": task.metadata.get("difficulty", "unknown")}
        unknown = set(task.evaluator) - {"checks"}
        if unknown:
            raise DatasetError(f"unknown evaluator keys {sorted(unknown)}; an Android evaluator has 'checks'",
                               item=task.id, field="evaluator")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise DatasetError(f"{first['msg']} (at {where})", item=task.id,
                               field=str(first["loc"][0]) if first["loc"] else None) from exc

    def to_task(self, **metadata: Any) -> Task:
        """The core task form (what suites hold and the runner ships between processes)."""
        return Task(id=self.id, instruction=self.instruction, environment="android",
                    setup=[s.model_dump() for s in self.setup],
                    evaluator={"checks": [c.model_dump(exclude_none=True) for c in self.checks]},
                    metadata={"complexity": self.complexity, "apps": list(self.apps), "difficulty": self.difficulty,
                              **metadata})

    @property
    def max_steps(self) -> int:
        """AndroidWorld's budget: ``int(10 * complexity)`` steps."""
        return max(1, int(10 * self.complexity))

    @property
    def infeasible(self) -> bool:
        return any(isinstance(c, StatusCheck) and c.equals == "infeasible" for c in self.checks)

    def initialize(self, device: AndroidDevice) -> None:
        """Stop the task's apps, run the setup steps, and show the home screen.

        Raises:
            AdbCommandError: a setup command failed (the message names it).
            EnvironmentFault: the device did not answer.
        """
        device.shell(["input", "keyevent", "KEYCODE_HOME"])
        for package in self.apps:
            device.shell(["am", "force-stop", package])
        for step in self.setup:
            step.run(device)
        device.shell(["input", "keyevent", "KEYCODE_HOME"])

    def is_successful(self, device: AndroidDevice, outcome: Outcome | None = None) -> Score:
        """Run every check; 1.0 when all pass. ``components`` has one 0/1 per check.

        A check whose ADB query fails counts as failed, with the error in ``details``.

        Raises:
            EnvironmentFault: the device did not answer.
        """
        outcome = outcome or Outcome()
        components: dict[str, float] = {}
        details: dict[str, Any] = {"answer": outcome.answer, "status": outcome.status}
        for i, check in enumerate(self.checks):
            name = f"{i}:{check.type}"
            try:
                passed, why = check.check(device, outcome)
            except AdbCommandError as exc:
                passed, why = False, str(exc)
            components[name] = 1.0 if passed else 0.0
            details[name] = why
        return Score(value=1.0 if all(v == 1.0 for v in components.values()) else 0.0, components=components,
                     details=details)
