"""Registries of the OSWorld setup steps, getters and metrics steadyhand implements.

Each is found by the name a task file uses (``"type": "execute"``, ``"type": "vm_file"``,
``"func": "exact_match"``). Built-ins register with the decorators in their modules;
other packages add their own through the entry-point groups
``steadyhand.osworld.steps``, ``steadyhand.osworld.getters`` and ``steadyhand.osworld.metrics``,
whose values must be :class:`Component` objects.

A component may carry a static ``check`` that, given its parameters and a
:class:`~steadyhand.environments.desktop.osworld.context.StaticContext`, lists why it
could not run there (a remote file with no cached copy, a missing browser), and the
parameters it ``requires``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from steadyhand.core.errors import ConfigurationError
from steadyhand.core.registry import Registry
from steadyhand.environments.desktop.osworld.context import StaticContext

Check = Callable[[dict[str, Any], StaticContext], list[str]]


@dataclass(frozen=True)
class Component:
    """One setup step, getter or metric.

    Attributes:
        name: the name task files use.
        fn: the implementation; its signature depends on the kind (see each registry).
        check: static check of one use (its parameters) -> reasons it cannot run here.
        requires: parameter names that must be present.
    """

    name: str
    fn: Callable[..., Any]
    check: Check | None = None
    requires: tuple[str, ...] = ()

    def problems(self, params: dict[str, Any], ctx: StaticContext) -> list[str]:
        """Missing parameters, then whatever ``check`` reports."""
        missing = [f"{self.name}: missing parameter {name!r}" for name in self.requires if name not in params]
        if missing or self.check is None:
            return missing
        return self.check(params, ctx)


#: Setup steps: ``fn(ctx: SetupContext, params: dict) -> None``.
steps: Registry[Component] = Registry("OSWorld setup step", "steadyhand.osworld.steps")
#: Getters: ``fn(ctx: EvalContext, config: dict) -> Any`` (may raise FileNotFoundError).
getters: Registry[Component] = Registry("OSWorld getter", "steadyhand.osworld.getters")
#: Metrics: ``fn(result, [expected,] **options) -> float`` in [0, 1].
metrics: Registry[Component] = Registry("OSWorld metric", "steadyhand.osworld.metrics")


def find(registry: Registry[Component], name: str) -> Component | None:
    """The component called ``name``, or None when nothing provides it."""
    try:
        item = registry.get(name)
    except ConfigurationError:
        return None
    return item if isinstance(item, Component) else None


def register(registry: Registry[Component], name: str, *, check: Check | None = None,
             requires: tuple[str, ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering a function as component ``name`` of ``registry``."""
    def add(fn: Callable[..., Any]) -> Callable[..., Any]:
        registry.register(name, Component(name, fn, check, requires))
        return fn

    return add
