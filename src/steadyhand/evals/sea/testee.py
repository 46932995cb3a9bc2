r"""The model under test: asks question forms in batches and reads the chosen letter from ``\box{}``.

Any :func:`steadyhand.models.load` spec works. Calls go through the model's
``batch`` (threads for remote servers); a ``local:``/``hf:`` transformers model
instead runs one padded ``generate`` per batch, which is several times faster on a
CPU, and still records one :class:`~steadyhand.models.CallRecord` per question in
the model's usage tracker. Either way, every reply reports its own tokens, and the
search charges each one to the budget.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import HumanMessage

from steadyhand.evals.sea.questions import LETTERS, render_prompt
from steadyhand.models import CallRecord, load, parse_spec, usage

__all__ = ["Reply", "Testee", "extract_choice"]

_BOX = re.compile(r"\\box(?:ed)?\s*\{\s*\(?\s*([A-Da-d])\s*\)?[^}]*\}")
_LEADING = re.compile(r"^\W{0,3}([A-D])(?:\W|$)")


def extract_choice(reply: str, options: list[str]) -> int | None:
    r"""The option index a reply chose, or ``None``.

    The last ``\box{X}`` (or ``\boxed{X}``) wins. Without one, a reply that names exactly
    one option's text chose it (a small model often writes "B. fonts" for the option
    "fonts" wherever it stands); otherwise a leading letter ("B", "(B)", "B.") counts.
    """
    boxes = _BOX.findall(reply)
    if boxes:
        return LETTERS.index(boxes[-1].upper())
    low = reply.lower()
    named = [i for i, option in enumerate(options)
             if option.strip() and re.search(r"(?<!\w)" + re.escape(option.strip().lower()) + r"(?!\w)", low)]
    if len(named) == 1:
        return named[0]
    leading = _LEADING.match(reply.strip())
    if leading:
        return LETTERS.index(leading.group(1))
    return None


@dataclass(frozen=True)
class Reply:
    """One testee call: the text and its token counts."""

    text: str
    input_tokens: int
    output_tokens: int
    latency_s: float


class Testee:
    """A chat model answering multiple-choice prompts.

    Args:
        spec: a model spec; ``local:``/``hf:`` specs get ``max_new_tokens`` unless they set it.
        batch_size: prompts per batch (padded generate, or concurrent requests).
        max_new_tokens: reply budget for in-process models (an answer is ``\\box{X}``).
    """

    __test__ = False  # not a pytest class, whatever its name

    def __init__(self, spec: str, *, batch_size: int = 16, max_new_tokens: int = 12) -> None:
        provider, _, options = parse_spec(spec)
        if provider in ("local", "hf") and "max_new_tokens" not in options:
            spec += ("&" if "?" in spec else "?") + f"max_new_tokens={max_new_tokens}"
        self.spec = spec
        self.batch_size = batch_size
        self.model = load(spec)
        self._lock = threading.Lock()

    @staticmethod
    def prompt(question: str, options: list[str]) -> str:
        """The text the testee sees for one form."""
        return render_prompt("ask.j2", question=question, options=options)

    def ask(self, prompts: list[str]) -> list[Reply]:
        """One reply per prompt, in order."""
        out: list[Reply] = []
        for start in range(0, len(prompts), self.batch_size):
            chunk = prompts[start:start + self.batch_size]
            out.extend(self._ask_batch(chunk))
        return out

    def _ask_batch(self, prompts: list[str]) -> list[Reply]:
        from steadyhand.models.transformers_chat import TransformersChatModel

        if isinstance(self.model, TransformersChatModel):
            return self._generate_padded(prompts)
        started = time.perf_counter()
        messages = self.model.batch([[HumanMessage(p)] for p in prompts],
                                    config={"max_concurrency": self.batch_size})
        latency = (time.perf_counter() - started) / max(len(prompts), 1)
        replies = []
        for message in messages:
            meta: dict[str, Any] = dict(getattr(message, "usage_metadata", None) or {})
            text = message.content if isinstance(message.content, str) else str(message.content)
            replies.append(Reply(text, int(meta.get("input_tokens", 0)), int(meta.get("output_tokens", 0)), latency))
        return replies

    def _generate_padded(self, prompts: list[str]) -> list[Reply]:
        import torch

        from steadyhand.models.transformers_chat import _load

        model_cfg: Any = self.model
        tokenizer, model = _load(model_cfg.model_path)
        texts = [tokenizer.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True,
                                               tokenize=False) for p in prompts]
        side = tokenizer.padding_side
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        try:
            enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        finally:
            tokenizer.padding_side = side
        started = time.perf_counter()
        with self._lock, torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=model_cfg.max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id)
        latency = (time.perf_counter() - started) / len(prompts)
        width = enc["input_ids"].shape[1]
        tracker = usage(self.model)
        replies = []
        for i in range(len(prompts)):
            n_in = int(enc["attention_mask"][i].sum())
            new = out[i][width:]
            n_out = int((new != tokenizer.pad_token_id).sum())
            text = tokenizer.decode(new, skip_special_tokens=True)
            replies.append(Reply(text, n_in, n_out, latency))
            tracker.calls.append(CallRecord(self.spec, n_in, n_out, latency))  # list.append is atomic
        return replies
