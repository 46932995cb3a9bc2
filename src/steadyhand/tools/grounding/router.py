"""The grounding router: experts tried in a configured order per action kind.

    router = Router.from_specs({"accessibility": "", "textual": "tesseract",
                                "visual": "openai:ui-tars@http://gpu:8000/v1?space=0-1000"})
    routed = router.ground(GroundingRequest(action="click", description='the "Save" button'), observation)
    routed.result          # the accepted GroundingResult, or None
    routed.decisions       # one dict per expert asked: what the agent stores on StepRecord.grounding

Order is data, not code: ``order={"click": ["accessibility", "textual", "visual"]}``;
action kinds not listed use :data:`DEFAULT_ORDER`, then every configured expert
that serves the kind. An expert is skipped when it does not serve the kind. A
:class:`GroundingError`, any other exception (a broken plugin never ends an
episode) or a confidence under the threshold moves on to the next expert. When
every expert falls short, the best low-confidence result is used if
``accept_best`` is set (the default), so the agent still acts and the
decisions say so.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from steadyhand.core.errors import ConfigurationError
from steadyhand.core.observation import Observation
from steadyhand.tools.grounding.base import (
    GroundingError,
    GroundingExpert,
    GroundingRequest,
    GroundingResult,
    build_expert,
)

#: Expert order per action kind when none is configured: cheap and exact first.
DEFAULT_ORDER: dict[str, list[str]] = {
    **{kind: ["accessibility", "textual", "visual", "candidates"]
       for kind in ("click", "double_click", "right_click", "type", "scroll", "hover", "move",
                    "drag_start", "drag_end")},
    "highlight_text_span": ["textual"],
    "set_cell_values": ["structural"],
}

Outcome = Literal["accepted", "low_confidence", "error", "failed", "best_below_threshold"]


class Decision(BaseModel):
    """One expert's part in grounding one request.

    ``outcome``: ``accepted`` (used), ``low_confidence`` (answered under the
    threshold), ``failed`` (raised :class:`GroundingError`), ``error`` (raised
    anything else: a bug in the expert), ``best_below_threshold`` (a
    low-confidence answer used because no expert did better).
    """

    model_config = ConfigDict(extra="forbid")

    expert: str
    outcome: Outcome
    confidence: float | None = None
    target: dict[str, Any] | None = None
    latency_s: float
    error: str | None = None
    details: dict[str, Any] | None = None


@dataclass
class Routed:
    """What routing one request produced: the result used (or None) and every decision."""

    request: GroundingRequest
    result: GroundingResult | None
    decisions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.result is not None

    def require(self) -> GroundingResult:
        """The result, or :class:`GroundingError` summarising why every expert missed."""
        if self.result is None:
            reasons = "; ".join(f"{d['expert']}: {d.get('error') or d['outcome']}" for d in self.decisions)
            raise GroundingError(f"no expert could ground {self.request.description or self.request.action!r}"
                                 + (f" ({reasons})" if reasons else " (no expert serves this action)"))
        return self.result


def parse_order(text: str) -> dict[str, list[str]]:
    """``"click=accessibility,textual;type=textual"`` as an order mapping.

    Raises:
        ConfigurationError: a part without ``=`` or without experts.
    """
    order: dict[str, list[str]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        kind, sep, names = part.partition("=")
        experts = [n.strip() for n in names.split(",") if n.strip()]
        if not sep or not kind.strip() or not experts:
            raise ConfigurationError(f"grounding order part {part!r} must look like ACTION=EXPERT,EXPERT")
        order[kind.strip()] = experts
    return order


def parse_specs(items: Sequence[str]) -> dict[str, str]:
    """``["textual=tesseract", "visual=openai:m@http://h/v1?space=0-1000"]`` (``--grounding`` values) as a mapping.

    Only the first ``=`` separates the name; the spec may hold more. Later items replace earlier ones.

    Raises:
        ConfigurationError: an item without ``NAME=``.
    """
    specs: dict[str, str] = {}
    for item in items:
        name, sep, spec = item.partition("=")
        if not sep or not name.strip():
            raise ConfigurationError(f"--grounding {item!r} must look like NAME=SPEC (SPEC may be empty)")
        specs[name.strip()] = spec.strip()
    return specs


class Router:
    """Tries experts per action kind in order, with fallback and a record of every decision.

    Args:
        experts: expert name -> expert (the name is what decisions record).
        order: action kind -> expert names to try, first to last.
        threshold: minimum confidence to accept a result.
        thresholds: per-expert overrides of ``threshold``.
        accept_best: when no expert reaches its threshold, use the most confident answer.
    """

    def __init__(self, experts: Mapping[str, GroundingExpert], *, order: Mapping[str, Sequence[str]] | None = None,
                 threshold: float = 0.5, thresholds: Mapping[str, float] | None = None,
                 accept_best: bool = True) -> None:
        for name, expert in experts.items():
            if not isinstance(expert, GroundingExpert):
                raise ConfigurationError(f"grounding expert {name!r} is a {type(expert).__name__}, which lacks "
                                         "name, serves or ground()")
        self.experts = dict(experts)
        self.order = {kind: list(names) for kind, names in (order or {}).items()}
        unknown = {n for names in self.order.values() for n in names} - set(self.experts)
        if unknown:
            raise ConfigurationError(f"grounding order names unconfigured expert(s) {sorted(unknown)}; "
                                     f"configured: {sorted(self.experts)}")
        self.threshold = threshold
        self.thresholds = dict(thresholds or {})
        self.accept_best = accept_best

    @classmethod
    def from_specs(cls, specs: Mapping[str, str], **options: Any) -> Router:
        """Build each expert by name from its spec (``--grounding NAME=SPEC``), then the router.

        Raises:
            ConfigurationError: an unknown expert name or a bad spec.
        """
        import steadyhand.tools.grounding.experts  # noqa: F401  (registers the built-in experts)

        return cls({name: build_expert(name, spec) for name, spec in specs.items()}, **options)

    def describe(self) -> dict[str, Any]:
        """The configuration, for run logs: experts (with their specs where known), order, thresholds."""
        return {"experts": {name: getattr(e, "spec", None) or repr(e) for name, e in self.experts.items()},
                "order": self.plan_all(), "threshold": self.threshold, "thresholds": self.thresholds,
                "accept_best": self.accept_best}

    def plan(self, action: str) -> list[str]:
        """The experts asked for ``action``, in order (configured order, default order, the rest)."""
        listed = self.order.get(action) or DEFAULT_ORDER.get(action, [])
        names = [n for n in listed if n in self.experts]
        if action not in self.order:
            names += [n for n in self.experts if n not in names]
        return [n for n in names if action in getattr(self.experts[n], "serves", frozenset())]

    def plan_all(self) -> dict[str, list[str]]:
        kinds = set(DEFAULT_ORDER) | set(self.order)
        return {kind: self.plan(kind) for kind in sorted(kinds)}

    def ground(self, request: GroundingRequest, observation: Observation) -> Routed:
        """Ground ``request``; never raises for an expert's failure (see :meth:`Routed.require`)."""
        decisions: list[Decision] = []
        best: tuple[GroundingResult, int] | None = None
        for name in self.plan(request.action):
            expert = self.experts[name]
            started = time.perf_counter()
            try:
                result = expert.ground(request, observation)
                if not isinstance(result, GroundingResult):
                    raise TypeError(f"ground() returned {type(result).__name__}, not GroundingResult")
            except GroundingError as exc:
                decisions.append(Decision(expert=name, outcome="failed", latency_s=_since(started), error=str(exc)))
                continue
            except Exception as exc:  # a bug in an expert is recorded, not raised
                decisions.append(Decision(expert=name, outcome="error", latency_s=_since(started),
                                          error=f"{type(exc).__name__}: {exc}"))
                continue
            accepted = result.confidence >= self.thresholds.get(name, self.threshold)
            decisions.append(Decision(expert=name, outcome="accepted" if accepted else "low_confidence",
                                      confidence=result.confidence, target=result.target.model_dump(),
                                      latency_s=_since(started), details=_clip(result.details)))
            if accepted:
                return Routed(request, result, [d.model_dump() for d in decisions])
            if best is None or result.confidence > best[0].confidence:
                best = (result, len(decisions) - 1)
        if best is not None and self.accept_best:
            decisions[best[1]] = decisions[best[1]].model_copy(update={"outcome": "best_below_threshold"})
            return Routed(request, best[0], [d.model_dump() for d in decisions])
        return Routed(request, None, [d.model_dump() for d in decisions])


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 4)


def _clip(details: dict[str, Any], limit: int = 400) -> dict[str, Any]:
    """Details small enough to store per step (long strings and lists cut)."""
    out: dict[str, Any] = {}
    for key, value in details.items():
        if isinstance(value, str) and len(value) > limit:
            value = value[:limit] + "…"
        elif isinstance(value, list) and len(value) > 20:
            value = [*value[:20], f"… {len(value) - 20} more"]
        out[key] = value
    return out
