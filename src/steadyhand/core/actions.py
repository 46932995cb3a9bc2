"""The Action union: defined once, rendered into prompts and executed by environments.

Every action is a small pydantic model with a literal ``kind``; :data:`Action` is
the discriminated union of all of them. The same class gives

* the executor input (environments receive a validated instance), and
* the model-facing description (:func:`render_action_api` turns the class name,
  docstring and field descriptions into the API listing shown in prompts).

New environments add their action classes here so one union describes every
action steadyhand can take.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from steadyhand.core.errors import ModelOutputError


class ActionBase(BaseModel):
    """Common base: actions are immutable and reject unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    #: The name the action has in prompts (``execute_sql(query=...)``).
    api_name: ClassVar[str] = ""


# --- control actions, shared by every environment -------------------------------------


class Wait(ActionBase):
    """Wait for the environment to settle before the next observation."""

    kind: Literal["wait"] = "wait"
    api_name: ClassVar[str] = "wait"
    seconds: float = Field(1.0, ge=0, le=60, description="How long to wait, in seconds.")


class Done(ActionBase):
    """Declare the task complete."""

    kind: Literal["done"] = "done"
    api_name: ClassVar[str] = "done"


class Fail(ActionBase):
    """Declare the task impossible (infeasible tasks score 1 only for this)."""

    kind: Literal["fail"] = "fail"
    api_name: ClassVar[str] = "fail"
    reason: str = Field("", description="Why the task cannot be done.")


# --- SQL databases -------------------------------------------------------------------


class ExecuteSQL(ActionBase):
    """Run a query against the database and see its (truncated) rows or its error."""

    kind: Literal["sql.execute"] = "sql.execute"
    api_name: ClassVar[str] = "execute_sql"
    query: str = Field(description="One SQL statement.")


class SubmitSQL(ActionBase):
    """Submit the final answer query; the episode ends and the query is scored."""

    kind: Literal["sql.submit"] = "sql.submit"
    api_name: ClassVar[str] = "submit_sql"
    query: str = Field(description="The SQL query that answers the question.")


Action = Annotated[
    Wait | Done | Fail | ExecuteSQL | SubmitSQL,
    Field(discriminator="kind"),
]
"""Every action steadyhand knows, discriminated by ``kind``."""

action_adapter: TypeAdapter[Any] = TypeAdapter(Action)


def parse_action(data: dict[str, Any] | str) -> ActionBase:
    """Validate a dict (or its JSON text) into the matching action class.

    Raises:
        ModelOutputError: the data names no known ``kind`` or has invalid fields;
            the message lists what was wrong so a model can correct itself.
    """
    try:
        if isinstance(data, str):
            return action_adapter.validate_json(data)  # type: ignore[no-any-return,unused-ignore]
        return action_adapter.validate_python(data)  # type: ignore[no-any-return,unused-ignore]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'action'}: {err['msg']}" for err in exc.errors()
        )
        raise ModelOutputError(f"invalid action: {problems}") from exc


def _type_name(annotation: Any) -> str:
    if inspect.isclass(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def render_action_api(actions: list[type[ActionBase]]) -> str:
    """Render the prompt listing of ``actions`` from their definitions.

    Each action becomes ``api_name(field: type = default)`` followed by its
    docstring and one line per documented field, so prompts never drift from
    the executable definitions.
    """
    blocks = []
    for cls in actions:
        params = []
        docs = []
        for name, field in cls.model_fields.items():
            if name == "kind":
                continue
            piece = f"{name}: {_type_name(field.annotation)}"
            if not field.is_required():
                piece += f" = {field.default!r}"
            params.append(piece)
            if field.description:
                docs.append(f"    {name}: {field.description}")
        summary = inspect.getdoc(cls) or ""
        header = f"{cls.api_name or cls.__name__}({', '.join(params)})"
        blocks.append("\n".join([header, f"    {summary.splitlines()[0] if summary else ''}", *docs]))
    return "\n".join(blocks)
