"""Expert spec strings: ``HEAD?key=value&key=value``.

``--grounding textual=tesseract?psm=11`` gives the ``textual`` expert the spec
``tesseract?psm=11``: its head (``tesseract``) and its options. Experts that wrap
a chat model pass the whole spec on to :func:`steadyhand.models.load` after
taking out their own options, so ``visual=openai:ui-tars@http://h:8000/v1?space=0-1000``
works with a single query string.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from steadyhand.core.errors import ConfigurationError


def split_spec(spec: str) -> tuple[str, dict[str, str]]:
    """``head?k=v&...`` as ``(head, {k: v})``."""
    head, _, query = (spec or "").partition("?")
    return head.strip(), dict(parse_qsl(query, keep_blank_values=True))


def join_spec(head: str, options: dict[str, str]) -> str:
    """The inverse of :func:`split_spec`."""
    return f"{head}?{urlencode(options)}" if options else head


def take(options: dict[str, str], key: str, default: str) -> str:
    """Remove and return ``options[key]`` (or ``default``)."""
    return options.pop(key, default)


def take_float(options: dict[str, str], key: str, default: float) -> float:
    """Remove ``options[key]`` and read it as a number.

    Raises:
        ConfigurationError: the value is not a number.
    """
    raw = options.pop(key, None)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"expert option {key}={raw!r} is not a number") from exc


def reject_unknown(expert: str, options: dict[str, str]) -> None:
    """Raise for options an expert did not take.

    Raises:
        ConfigurationError: naming the unknown options.
    """
    if options:
        raise ConfigurationError(f"{expert} expert: unknown option(s) {', '.join(sorted(options))}")
