"""The exceptions steadyhand raises across package boundaries.

Each names what went wrong in words a user can act on; callers catch the
narrowest one they can handle.
"""

from __future__ import annotations


class SteadyhandError(Exception):
    """Base class of every error steadyhand raises on purpose."""


class ConfigurationError(SteadyhandError):
    """A spec string, option or registry name is invalid or unavailable here."""


class DatasetError(SteadyhandError):
    """A benchmark file is malformed: the message names the file, the item and the field."""

    def __init__(self, message: str, *, path: str | None = None, item: str | None = None,
                 field: str | None = None) -> None:
        where = ", ".join(
            part for part in (
                f"file {path}" if path else "",
                f"item {item}" if item is not None else "",
                f"field {field!r}" if field else "",
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.path = path
        self.item = item
        self.field = field


class ModelOutputError(SteadyhandError):
    """A model's reply could not be parsed into what the caller asked for.

    Agents catch it, show the message to the model and retry; it never ends a run.
    """


class InfrastructureFault(SteadyhandError):
    """Something the agent depends on failed, not the agent: never an agent failure.

    Agents let it propagate; the runner records it on the episode (``infra_faults``),
    reruns the episode up to ``max_infra_retries`` times, and leaves it ``infra_error``
    (rerun by ``--resume``, excluded from scores) when the retries are spent.
    """


class EnvironmentFault(InfrastructureFault):
    """The environment itself failed (a dead sandbox, a crashed server), not the agent."""


class ModelServerFault(InfrastructureFault):
    """A model server timed out, refused the connection or failed (5xx, rate limit) after the client's retries.

    Raised by models built with ``openai:`` specs in place of the client library's
    transport errors; ``__cause__`` holds the original exception.
    """
