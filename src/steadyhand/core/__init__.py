"""Small shared types every other package plugs into.

Everything that crosses a boundary (tasks, actions, observations, step results,
scores, run events) is a pydantic model defined here; components are found by
name through :mod:`steadyhand.core.registry`.
"""

from steadyhand.core.actions import (
    Action,
    ActionBase,
    Done,
    ExecuteSQL,
    Fail,
    SubmitSQL,
    Wait,
    action_adapter,
    parse_action,
    render_action_api,
)
from steadyhand.core.environment import Environment
from steadyhand.core.errors import (
    ConfigurationError,
    DatasetError,
    EnvironmentFault,
    InfrastructureFault,
    ModelOutputError,
    ModelServerFault,
    SteadyhandError,
)
from steadyhand.core.events import (
    EpisodeFinished,
    EpisodeStarted,
    RunEvent,
    RunFinished,
    RunStarted,
    StepRecorded,
)
from steadyhand.core.observation import Observation, StepResult
from steadyhand.core.registry import Registry, agents, environments, grounding, suites
from steadyhand.core.score import Score
from steadyhand.core.task import Suite, Task

__all__ = [
    "Action",
    "ActionBase",
    "ConfigurationError",
    "DatasetError",
    "Done",
    "Environment",
    "EnvironmentFault",
    "EpisodeFinished",
    "EpisodeStarted",
    "ExecuteSQL",
    "Fail",
    "InfrastructureFault",
    "ModelOutputError",
    "ModelServerFault",
    "Observation",
    "Registry",
    "RunEvent",
    "RunFinished",
    "RunStarted",
    "Score",
    "SteadyhandError",
    "StepRecorded",
    "StepResult",
    "SubmitSQL",
    "Suite",
    "Task",
    "Wait",
    "action_adapter",
    "agents",
    "environments",
    "grounding",
    "parse_action",
    "render_action_api",
    "suites",
]
