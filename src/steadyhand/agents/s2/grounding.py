"""How the S2 graph reaches the Mixture of Grounding: one small protocol and its construction.

The graph needs one thing from grounding: for a :class:`GroundingRequest` on the
current observation, a result in screen pixels (or nothing) plus the decision records
that go on the step (``StepRecord.grounding``). :class:`Grounder` says exactly that;
:class:`steadyhand.tools.grounding.router.Router` is one, and :func:`build_grounder`
builds it from the agent's ``grounding`` option (``{expert name: spec}``, e.g.
``{"textual": "tesseract"}``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from steadyhand.core.errors import ConfigurationError
from steadyhand.core.observation import Observation
from steadyhand.tools.grounding.base import GroundingRequest, GroundingResult


class Routed(Protocol):
    """What grounding one request gives: the result used (None when every expert missed) and the decisions."""

    @property
    def result(self) -> GroundingResult | None: ...

    @property
    def decisions(self) -> list[dict[str, Any]]: ...


@runtime_checkable
class Grounder(Protocol):
    """Grounds requests on observations; never raises for a miss (``result`` is None instead)."""

    def ground(self, request: GroundingRequest, observation: Observation) -> Routed: ...


def miss_reason(request: GroundingRequest, decisions: list[dict[str, Any]]) -> str:
    """Why nothing was found, from the decisions, in words the worker can act on."""
    if not decisions:
        return f"no grounding expert serves {request.action!r} requests"
    reasons = "; ".join(f"{d.get('expert')}: {d.get('error') or d.get('outcome')}" for d in decisions)
    return f"could not find {request.description!r} on the screen ({reasons})"


#: The expert tried first on Android: the screen's UI elements, exact and cheap.
ANDROID_EXPERT = "android_ui"
#: Request kinds S2 sends on Android.
ANDROID_KINDS: tuple[str, ...] = ("click", "type", "scroll", "long_press")


def android_grounding(experts: Mapping[str, str], order: Mapping[str, Sequence[str]] | None = None,
                      ) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The experts and order an Android episode uses: ``android_ui`` first, then the configured ones.

    ``android_ui`` is added (with an empty spec) when not configured. Kinds the
    configured ``order`` names keep their order; the others try ``android_ui`` and then
    the configured experts in their given order (``textual`` after it, typically).
    """
    chosen = {ANDROID_EXPERT: experts.get(ANDROID_EXPERT, ""), **{k: v for k, v in experts.items()
                                                                   if k != ANDROID_EXPERT}}
    plan = {kind: list(names) for kind, names in (order or {}).items()}
    for kind in ANDROID_KINDS:
        plan.setdefault(kind, list(chosen))
    return chosen, plan


def build_grounder(experts: Mapping[str, str], *, order: Mapping[str, Sequence[str]] | None = None,
                   min_confidence: float = 0.5) -> Grounder:
    """The grounding router over the experts named in ``experts`` (``{name: spec}``).

    Raises:
        ConfigurationError: no experts, or one that cannot be built.
    """
    if not experts:
        raise ConfigurationError("the s2 agent needs at least one grounding expert, e.g. "
                                 "-o grounding='{textual: tesseract}'")
    from steadyhand.tools.grounding.router import Router

    router: Grounder = Router.from_specs(dict(experts), order=order, threshold=min_confidence)
    return router
