"""OSWorld's task format on steadyhand desktops: load task files, set up, score, check support.

Two imports run an OSWorld task against any desktop control server::

    from steadyhand.environments.desktop.osworld import evaluate_task, load_tasks, run_setup

    task = load_tasks("evaluation_examples")[0]
    run_setup(client, task)                  # the task's config steps
    ...                                      # the agent acts
    score = evaluate_task(client, task, last_action)

:func:`check_tasks` says, without running anything, which tasks can run here and why not
(``steadyhand osworld check DIR``). Setup steps, getters and metrics are registered
components (:mod:`.components`); unknown names make a task unsupported, never a crash.
"""

from steadyhand.environments.desktop.osworld.check import TaskSupport, check_task, check_tasks, missing_components
from steadyhand.environments.desktop.osworld.components import Component, getters, metrics, steps
from steadyhand.environments.desktop.osworld.context import (
    Capabilities,
    ControlClient,
    OSWorldOptions,
    StaticContext,
    UnsupportedTask,
)
from steadyhand.environments.desktop.osworld.evaluate import evaluate_task, is_fail
from steadyhand.environments.desktop.osworld.loader import find_task_files, load_task_file, load_tasks, parse_task
from steadyhand.environments.desktop.osworld.setup import ensure_supported, run_setup

__all__ = [
    "Capabilities",
    "Component",
    "ControlClient",
    "OSWorldOptions",
    "StaticContext",
    "TaskSupport",
    "UnsupportedTask",
    "check_task",
    "check_tasks",
    "ensure_supported",
    "evaluate_task",
    "find_task_files",
    "getters",
    "is_fail",
    "load_task_file",
    "load_tasks",
    "metrics",
    "missing_components",
    "parse_task",
    "run_setup",
    "steps",
]
