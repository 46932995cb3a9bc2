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
    scores, so it is stored and parsed like any other. The four texts of a form run
    as one packed sequence (their shared beginning once, then each option's ending
    attending to it), which gives the same scores as four separate texts at about
    half the compute.

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
        groups = [[tokenizer(text)["input_ids"] for text in scored_texts(question, options)]
                  for question, options in forms]
        started = time.perf_counter()
        with self._lock, torch.inference_mode():
            scores = _packed_scores(model, groups, tokenizer.pad_token_id or 0)
        latency = (time.perf_counter() - started) / len(forms)
        tracker = usage(self.model)
        replies = []
        for own, group in zip(scores, groups, strict=True):
            best = max(range(len(own)), key=own.__getitem__)
            text = f"\\box{{{LETTERS[best]}}} log-likelihoods: " + ", ".join(
                f"{LETTERS[j]} {s:.2f}" for j, s in enumerate(own))
            n_in = sum(len(ids) for ids in group)
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


def _packed_scores(model: Any, groups: list[list[list[int]]], pad_id: int) -> list[list[float]]:
    """Per group of token sequences, each sequence's summed log-probability from the first token where they differ.

    A group is packed into one row: the shared prefix once, then each sequence's
    remaining tokens, which attend to the prefix and to themselves only and take up
    the positions they have in their own sequence (a 4-D attention mask and
    explicit position ids). That computes exactly what scoring each sequence on its
    own does, with the prefix run once instead of once per sequence.
    """
    import torch

    rows: list[tuple[list[int], list[int], list[int]]] = []  # tokens, positions, segment (0: prefix)
    plans: list[list[tuple[list[int], list[int]]]] = []  # per sequence: logit rows, target tokens
    for seqs in groups:
        shortest = min(len(ids) for ids in seqs)
        common = 0
        while common < shortest and all(ids[common] == seqs[0][common] for ids in seqs):
            common += 1
        # Score at least one token of every sequence (a sequence that is a prefix of another would
        # otherwise score 0 and win), and never the first, which has no logit to score it by.
        shared = min(common, shortest - 1)
        start = max(shared, 1)
        tokens, positions, segments = list(seqs[0][:shared]), list(range(shared)), [0] * shared
        plan = []
        for number, ids in enumerate(seqs, start=1):
            tail = ids[shared:-1]  # the last token is only ever a target
            first = len(tokens)
            tokens += tail
            positions += range(shared, shared + len(tail))
            segments += [number] * len(tail)
            # the logit that predicts token j sits at token j - 1: in the shared prefix, or in this tail
            at = [j - 1 if j - 1 < shared else first + j - 1 - shared for j in range(start, len(ids))]
            plan.append((at, ids[start:]))
        rows.append((tokens, positions, segments))
        plans.append(plan)
    width = max(1, *(len(tokens) for tokens, _, _ in rows))
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    position_ids = torch.zeros((len(rows), width), dtype=torch.long)
    segment = torch.full((len(rows), width), -1, dtype=torch.long)  # -1: padding
    for i, (tokens, positions, segments) in enumerate(rows):
        input_ids[i, :len(tokens)] = torch.tensor(tokens)
        position_ids[i, :len(tokens)] = torch.tensor(positions)
        segment[i, :len(tokens)] = torch.tensor(segments)
    query, key = segment[:, :, None], segment[:, None, :]
    allowed = torch.ones(width, width, dtype=torch.bool).tril() & (key >= 0) & ((key == 0) | (key == query))
    allowed |= torch.eye(width, dtype=torch.bool)  # padding attends to itself, so no row is empty
    dtype = next(model.parameters()).dtype
    mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)[:, None]
    logits = model(input_ids=input_ids, position_ids=position_ids, attention_mask=mask).logits
    scores = []
    for i, plan in enumerate(plans):
        own = []
        for at, targets in plan:
            logp = torch.log_softmax(logits[i, at].float(), dim=-1)
            own.append(float(logp.gather(-1, torch.tensor(targets)[:, None]).sum()))
        scores.append(own)
    return scores
