"""Built-in desktop suites.

``desk-mini``: 17 tasks in OSWorld's task format written for steadyhand's own desktops
(Xvfb + openbox with xterm, Mousepad and LibreOffice Calc): editing and saving text in
Mousepad, terminal work, file management through the shell, Calc values and formulas
saved as .fods/.xlsx/.ods and exported to CSV, and two infeasible requests. The folder
``desk_mini/`` is an OSWorld ``evaluation_examples`` tree (``test_all.json`` and
``examples/<domain>/<id>.json``); each task has an oracle action script beside it
(see :mod:`.oracle`), and its input and reference files are in ``files/`` and ``gold/``.
Paths inside the desktop use the ``{HOME}`` placeholder.
"""

from __future__ import annotations

from pathlib import Path

from steadyhand.core.task import Suite, Task
from steadyhand.environments.desktop.osworld.loader import load_tasks

DESK_MINI_DIR = Path(__file__).resolve().parent / "desk_mini"


def load_desk_mini() -> list[Task]:
    """The desk-mini tasks, in the order of its ``test_all.json``."""
    return load_tasks(DESK_MINI_DIR)


desk_mini = Suite(
    name="desk-mini",
    environment="desktop",
    load=load_desk_mini,
    description="17 OSWorld-format tasks on a local desktop: Mousepad, terminal, files, LibreOffice Calc, "
                "infeasible requests",
    environment_options={"provider": "local"},
    requirements=("x11", "xterm", "mousepad", "libreoffice-calc"),
)

__all__ = ["DESK_MINI_DIR", "desk_mini", "load_desk_mini"]
