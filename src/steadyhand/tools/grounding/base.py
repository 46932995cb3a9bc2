"""The GroundingExpert contract and the data it exchanges.

A worker describes what it wants to act on in words ("the Save button in the
toolbar"); a grounding expert finds it on the current observation. Results are
in **screen pixels** of the observation's screenshot, whatever coordinate space
the expert's model uses internally: converting is the expert's job, so the
router and the agent never see model-specific spaces.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from steadyhand.core.errors import SteadyhandError
from steadyhand.core.observation import Observation
from steadyhand.core.registry import grounding


class GroundingError(SteadyhandError):
    """An expert could not ground a request (nothing matched, its model failed).

    The router treats it as a miss and falls back to the next expert.
    """


class GroundingRequest(BaseModel):
    """What to find.

    Attributes:
        action: the action kind being grounded (``click``, ``type``, ``scroll``,
            ``drag_start``, ``drag_end``, ``highlight_text_span``, ``set_cell_values``...).
        description: the element description written by the worker.
        text_span: for text-span requests, (starting phrase, ending phrase).
        app: the application in focus when known (``LibreOffice Calc``).
        context: free extra hints (sheet name, cell references).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: str
    description: str = ""
    text_span: tuple[str, str] | None = None
    app: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)


class PointTarget(BaseModel):
    kind: Literal["point"] = "point"
    x: int
    y: int


class BoxTarget(BaseModel):
    """A rectangle; its centre is where a click lands."""

    kind: Literal["box"] = "box"
    left: int
    top: int
    width: int
    height: int

    @property
    def center(self) -> tuple[int, int]:
        return self.left + self.width // 2, self.top + self.height // 2


class SpanTarget(BaseModel):
    """A text span on screen: from the start of its first word to the end of its last."""

    kind: Literal["span"] = "span"
    start: tuple[int, int]
    end: tuple[int, int]


class CellTarget(BaseModel):
    """Spreadsheet cells, addressed structurally rather than by pixels."""

    kind: Literal["cells"] = "cells"
    cells: dict[str, Any]
    sheet: str | None = None
    app: str | None = None


Target = Annotated[PointTarget | BoxTarget | SpanTarget | CellTarget, Field(discriminator="kind")]


class GroundingResult(BaseModel):
    """An expert's answer: a target with a confidence in [0, 1] and the expert's name.

    ``details`` carries what a trajectory viewer should show (the matched text,
    the candidate boxes, the model's raw reply).
    """

    model_config = ConfigDict(extra="forbid")

    target: Target
    confidence: float = Field(ge=0.0, le=1.0)
    expert: str
    details: dict[str, Any] = Field(default_factory=dict)


@runtime_checkable
class GroundingExpert(Protocol):
    """Grounds element descriptions on an observation.

    ``serves`` lists the request action kinds the expert handles (the router
    never asks it for others). ``ground`` returns a result in screen pixels or
    raises :class:`GroundingError`; any other exception is a bug in the expert
    and the router records it as a failure too, so one broken plugin never ends
    an episode.
    """

    name: str
    serves: ClassVar[frozenset[str]]

    def ground(self, request: GroundingRequest, observation: Observation) -> GroundingResult: ...


E = TypeVar("E", bound=Callable[..., Any])

#: Request kinds answered with a point or box on the screen.
POINT_ACTIONS: frozenset[str] = frozenset({"click", "double_click", "right_click", "type", "scroll", "hover",
                                            "move", "drag_start", "drag_end"})
#: Request kinds answered with a text span.
SPAN_ACTIONS: frozenset[str] = frozenset({"highlight_text_span"})
#: Request kinds answered with spreadsheet cells.
CELL_ACTIONS: frozenset[str] = frozenset({"set_cell_values"})


def register_expert(name: str) -> Callable[[E], E]:
    """Class decorator: register an expert factory under ``name`` (``--grounding name=SPEC``)."""

    def add(factory: E) -> E:
        grounding.register(name, factory)
        return factory

    return add


def build_expert(name: str, spec: str = "") -> GroundingExpert:
    """The expert registered (or declared by entry point) as ``name``, built from ``spec``.

    A registered factory (usually the expert class) is called with the spec string
    as its one positional argument, or with no argument when the spec is empty;
    ``--grounding name=SPEC`` on the command line means ``build_expert(name, SPEC)``.

    Raises:
        ConfigurationError: unknown name, a broken plugin, a bad spec, or a factory
            that did not return a :class:`GroundingExpert`.
    """
    from steadyhand.core.errors import ConfigurationError

    factory = grounding.get(name)
    try:
        expert = factory(spec) if spec else factory()
    except ConfigurationError:
        raise
    except GroundingError as exc:
        raise ConfigurationError(f"grounding expert {name!r}: {exc}") from exc
    except TypeError as exc:
        raise ConfigurationError(f"grounding expert {name!r} could not be built from spec {spec!r}: {exc}") from exc
    if not isinstance(expert, GroundingExpert):
        raise ConfigurationError(f"grounding expert {name!r} built a {type(expert).__name__}, which lacks "
                                 "name, serves or ground()")
    return expert
