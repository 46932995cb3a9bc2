r"""The model under test: answers question forms in batches; the chosen letter is read from ``\box{}``.

Two ways to answer (``answer=``):

``box`` (the default, and SEA's protocol)
    The testee sees the question and its lettered options and writes its answer
    as ``\box{X}``. Any :func:`steadyhand.models.load` spec works. Calls go through
    the model's ``batch`` (threads for remote servers); a ``local:``/``hf:``
    transformers model instead runs one padded ``generate`` per batch, which is
    several times faster on a CPU.
``likelihood`` (in-process ``local:``/``hf:`` models only)
    The testee picks the option under which the text is most likely: the blank
    (``____``) filled with each option in turn, or the question followed by
    ``Answer: <option>``. The score is the summed log-probability of the text from
    the first token where the four texts differ (the tokens before it are the same
    for every option, so they cannot change the choice). This is how small
    language models are evaluated on multiple choice (the "cloze formulation" of
    lm-evaluation-harness and the SmolLM2 report): a 135M model asked to write a
    letter answers "A" whatever the question, so its boxed answers measure its
    letter bias, not its knowledge. The reply is ``\box{X}`` followed by the four
    scores, so it is stored and parsed like any other.

Either way, one form is one call, recorded as a :class:`~steadyhand.models.CallRecord`
in the model's usage tracker with its own tokens (for ``likelihood``: every token of
the four scored texts), and the search charges each call and token to the budget.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.messages import HumanMessage

from steadyhand.core.errors import ConfigurationError
from steadyhand.evals.sea.questions import BLANK, LETTERS, render_prompt
from steadyhand.models import CallRecord, load, parse_spec, usage

__all__ = ["AnswerMode", "Reply", "Testee", "extract_choice", "scored_texts"]

AnswerMode = Literal["box", "likelihood"]

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


def scored_texts(question: str, options: list[str]) -> list[str]:
    """The texts ``likelihood`` answering compares: the blank filled with each option, or ``Answer: <option>``."""
    if question.count(BLANK) == 1:
        return [question.replace(BLANK, option) for option in options]
    return [f"{question}\nAnswer: {option}" for option in options]


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
        answer: ``box`` (write the letter) or ``likelihood`` (score the options; in-process models only).

    Raises:
        ConfigurationError: a bad spec, or ``likelihood`` for a model that is not in-process.
    """

    __test__ = False  # not a pytest class, whatever its name

    def __init__(self, spec: str, *, batch_size: int = 16, max_new_tokens: int = 12,
                 answer: AnswerMode = "box") -> None:
        provider, _, options = parse_spec(spec)
        if answer not in ("box", "likelihood"):
            raise ConfigurationError(f"testee answer mode {answer!r}: use 'box' or 'likelihood'")
        if answer == "likelihood" and provider not in ("local", "hf"):
            raise ConfigurationError(f"testee {spec!r}: likelihood answering needs the model's log-probabilities, "
                                     "so only in-process local:/hf: models support it; use answer='box'")
        if provider in ("local", "hf") and "max_new_tokens" not in options:
            spec += ("&" if "?" in spec else "?") + f"max_new_tokens={max_new_tokens}"
        self.spec = spec
        self.batch_size = batch_size
        self.answer_mode: AnswerMode = answer
        self.model = load(spec)
        self._lock = threading.Lock()

    @staticmethod
    def prompt(question: str, options: list[str]) -> str:
        """The text the testee sees for one form."""
        return render_prompt("ask.j2", question=question, options=options)

    def answer(self, forms: list[tuple[str, list[str]]]) -> list[Reply]:
        """One reply per (question, options shown) form, in order, in this testee's answer mode."""
        if self.answer_mode == "box":
            return self.ask([self.prompt(text, options) for text, options in forms])
        out: list[Reply] = []
        for start in range(0, len(forms), self.batch_size):
            out.extend(self._score_options(forms[start:start + self.batch_size]))
        return out

    def ask(self, prompts: list[str]) -> list[Reply]:
        """One generated reply per prompt, in order."""
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
        enc = _encode(tokenizer, texts, "left", add_special_tokens=False)
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

    def _score_options(self, forms: list[tuple[str, list[str]]]) -> list[Reply]:
        import torch

        from steadyhand.models.transformers_chat import _load

        if any(len(options) != len(LETTERS) for _, options in forms):
            raise ValueError(f"likelihood answering scores {len(LETTERS)} options per form")
        model_cfg: Any = self.model
        tokenizer, model = _load(model_cfg.model_path)
        texts = [text for question, options in forms for text in scored_texts(question, options)]
        enc = _encode(tokenizer, texts, "right")
        started = time.perf_counter()
        with self._lock, torch.inference_mode():
            scores = _option_scores(model, enc["input_ids"], enc["attention_mask"], len(LETTERS))
        latency = (time.perf_counter() - started) / len(forms)
        lengths = enc["attention_mask"].sum(dim=1).tolist()
        tracker = usage(self.model)
        replies = []
        for i in range(len(forms)):
            own = scores[4 * i:4 * i + 4]
            best = max(range(4), key=own.__getitem__)
            text = f"\\box{{{LETTERS[best]}}} log-likelihoods: " + ", ".join(
                f"{LETTERS[j]} {s:.2f}" for j, s in enumerate(own))
            n_in = int(sum(lengths[4 * i:4 * i + 4]))
            replies.append(Reply(text, n_in, 0, latency))
            tracker.calls.append(CallRecord(self.spec, n_in, 0, latency))
        return replies


def _encode(tokenizer: Any, texts: list[str], side: str, **kwargs: Any) -> Any:
    """``texts`` as one padded batch of tensors, padded on ``side`` (the tokenizer's own setting is kept)."""
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    kept, tokenizer.padding_side = tokenizer.padding_side, side
    try:
        return tokenizer(texts, return_tensors="pt", padding=True, **kwargs)
    finally:
        tokenizer.padding_side = kept


def _option_scores(model: Any, input_ids: Any, attention_mask: Any, group: int) -> list[float]:
    """Summed log-probability of each row from the first token where its group of ``group`` rows differ."""
    import torch

    logits = model(input_ids=input_ids, attention_mask=attention_mask).logits
    lengths = attention_mask.sum(dim=1).tolist()
    scores: list[float] = []
    for first in range(0, input_ids.shape[0], group):
        rows = range(first, min(first + group, input_ids.shape[0]))
        shortest = min(lengths[r] for r in rows)
        same = (input_ids[first:rows.stop, :shortest] == input_ids[first, :shortest]).all(dim=0)
        start = max(int((~same).nonzero()[0]) if (~same).any() else shortest, 1)
        for r in rows:
            targets = input_ids[r, start:lengths[r]]
            row_logp = torch.log_softmax(logits[r, start - 1:lengths[r] - 1].float(), dim=-1)
            scores.append(float(row_logp.gather(-1, targets[:, None]).sum()))
    return scores
