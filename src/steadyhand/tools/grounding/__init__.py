"""Mixture of Grounding: experts that turn element descriptions into screen targets.

The contract is :class:`~steadyhand.tools.grounding.base.GroundingExpert`; experts
register with ``@register_expert("name")`` or the entry-point group
``steadyhand.grounding``; :class:`~steadyhand.tools.grounding.router.Router` tries
them in a configured order per action kind and records every decision. Importing
this package registers the built-in experts (``accessibility``, ``textual``,
``visual``, ``structural``, ``candidates``).
"""

import steadyhand.tools.grounding.experts  # noqa: F401  (registers the built-in experts)
from steadyhand.tools.grounding.base import (
    CELL_ACTIONS,
    POINT_ACTIONS,
    SPAN_ACTIONS,
    BoxTarget,
    CellTarget,
    GroundingError,
    GroundingExpert,
    GroundingRequest,
    GroundingResult,
    PointTarget,
    SpanTarget,
    Target,
    build_expert,
    register_expert,
)
from steadyhand.tools.grounding.coordinates import CoordinateSpace, Resize, ScreenMap, parse_point
from steadyhand.tools.grounding.router import DEFAULT_ORDER, Decision, Routed, Router, parse_order, parse_specs

__all__ = ["CELL_ACTIONS", "DEFAULT_ORDER", "POINT_ACTIONS", "SPAN_ACTIONS", "BoxTarget", "CellTarget",
           "CoordinateSpace", "Decision", "GroundingError", "GroundingExpert", "GroundingRequest",
           "GroundingResult", "PointTarget", "Resize", "Routed", "Router", "ScreenMap", "SpanTarget", "Target",
           "build_expert", "parse_order", "parse_point", "parse_specs", "register_expert"]
