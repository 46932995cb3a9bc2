"""Name -> component registries, filled by decorators and by entry points.

Built-in components register with a decorator when their module is imported;
third-party packages declare an entry point in one of the groups below and are
loaded on first lookup, so nothing in steadyhand needs editing to plug them in::

    [project.entry-points."steadyhand.grounding"]
    my-expert = "my_package.experts:MyExpert"

Groups: ``steadyhand.environments``, ``steadyhand.agents``, ``steadyhand.grounding``,
``steadyhand.suites``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar

from steadyhand.core.errors import ConfigurationError

T = TypeVar("T")


class Registry(Generic[T]):
    """Components of one kind, by name.

    ``register`` is usable as a decorator (``@registry.register("name")``) or a
    call (``registry.register("name", obj)``). Lookups fall back to the entry-point
    group; an entry point may resolve to the component itself or, for suites, to a
    zero-argument factory returning it.
    """

    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind
        self.group = group
        self._items: dict[str, T] = {}
        self._lock = threading.Lock()
        self._entry_points_loaded: set[str] = set()

    def register(self, name: str, obj: T | None = None, *, replace: bool = False) -> Callable[[T], T] | T:
        def add(item: T) -> T:
            with self._lock:
                if name in self._items and self._items[name] is not item and not replace:
                    raise ConfigurationError(f"{self.kind} {name!r} is already registered")
                self._items[name] = item
            return item

        return add(obj) if obj is not None else add

    def _entry_points(self) -> dict[str, EntryPoint]:
        return {ep.name: ep for ep in entry_points(group=self.group)}

    def get(self, name: str) -> T:
        """The component called ``name``.

        Raises:
            ConfigurationError: no such component; the message lists the known names.
        """
        if name in self._items:
            return self._items[name]
        eps = self._entry_points()
        if name in eps and name not in self._entry_points_loaded:
            self._entry_points_loaded.add(name)
            try:
                loaded = eps[name].load()
            except Exception as exc:  # a broken plugin must say which one
                raise ConfigurationError(
                    f"{self.kind} {name!r}: loading entry point {eps[name].value!r} failed: {exc}"
                ) from exc
            if name not in self._items:  # importing may have registered it already
                self._items[name] = loaded
            return self._items[name]
        raise ConfigurationError(
            f"unknown {self.kind} {name!r}; known: {', '.join(sorted(self.names())) or 'none'}"
        )

    def names(self) -> list[str]:
        """Every registered name plus every name declared by an installed entry point."""
        return sorted(set(self._items) | set(self._entry_points()))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


# The four registries other packages plug into. Values are classes or factories;
# their own packages document what each must accept.
environments: Registry[Callable[..., object]] = Registry("environment", "steadyhand.environments")
agents: Registry[Callable[..., object]] = Registry("agent", "steadyhand.agents")
grounding: Registry[Callable[..., object]] = Registry("grounding expert", "steadyhand.grounding")
suites: Registry[object] = Registry("suite", "steadyhand.suites")
