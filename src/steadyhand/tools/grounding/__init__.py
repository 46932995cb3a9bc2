"""Mixture of Grounding: experts that turn element descriptions into screen targets.

The contract is :class:`~steadyhand.tools.grounding.base.GroundingExpert`; experts
register with ``@register_expert("name")`` or the entry-point group
``steadyhand.grounding``; a router tries them in a configured order per action kind.
"""

from steadyhand.tools.grounding.base import (
    BoxTarget,
    CellTarget,
    GroundingError,
    GroundingExpert,
    GroundingRequest,
    GroundingResult,
    PointTarget,
    SpanTarget,
    Target,
    register_expert,
)

__all__ = ["BoxTarget", "CellTarget", "GroundingError", "GroundingExpert", "GroundingRequest",
           "GroundingResult", "PointTarget", "SpanTarget", "Target", "register_expert"]
