"""Multiple-choice questions about paragraphs: a deterministic cloze generator and a model-based one.

A :class:`Question` has four options, the index of the right one, and rephrasings.
The testee sees every *form* (the question, then each rephrasing); form ``i`` shows
the options rotated by ``i`` places, so a model that always answers "A" cannot look
knowledgeable.

:class:`ClozeGenerator` needs no model: it blanks a content word of a sentence and
draws three distractors from *related* paragraphs (same section of the nearest pages),
preferring words that fill the same slot (same neighbouring words, same shape). Its
output depends only on the paragraph and its neighbours, never on a run's seed, so
every run shares one question cache.

:class:`ModelGenerator` asks a chat model for JSON, validates it with pydantic and
retries with the validation error; after ``retries`` failures it raises
:class:`~steadyhand.core.errors.ModelOutputError`, which the search records as a
paragraph without questions (it never ends a run).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Protocol

import jinja2
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from steadyhand.core.errors import ModelOutputError
from steadyhand.evals.sea.kb import KnowledgeBase, Paragraph

__all__ = ["BLANK", "LETTERS", "ClozeGenerator", "ModelGenerator", "Question", "QuestionGenerator", "render_prompt",
           "template_words"]

LETTERS = "ABCD"
#: What a cloze question puts where the blanked word was.
BLANK = "____"
_PROMPTS = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "prompts"),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9+_-]*(?:\.[A-Za-z0-9+_-]+)*")
_STOP = frozenset(word for line in (
    "a an and are as at be been by can for from has have in into is it its of on or that the their this",
    "to was were which with without also may not other more than all any one two such these those used",
    "using use uses",
) for word in line.split())
_CLOZE_FORMS = (
    'Fill in the blank in this statement about {page}: "{cloze}"',
    'Which option correctly completes this text from the "{heading}" section of the page on {page}? "{cloze}"',
    'According to the knowledge base entry for {page}, what belongs in the blank? "{cloze}"',
    'Complete the following fact about {page}: "{cloze}"',
)


def render_prompt(template: str, **values: object) -> str:
    """Render a prompt template of this package (strict: a missing variable raises)."""
    return _PROMPTS.get_template(template).render(**values).strip()


class Question(BaseModel):
    """A four-option question about one paragraph, with rephrasings."""

    model_config = ConfigDict(frozen=True)

    id: str
    paragraph_id: str
    question: str
    options: list[str] = Field(min_length=4, max_length=4)
    answer: int = Field(ge=0, le=3)
    rephrasings: list[str] = Field(default_factory=list)
    generator: str

    def forms(self) -> list[tuple[str, list[str], int]]:
        """(text, options in shown order, index of the right option) for each form."""
        out = []
        for i, text in enumerate([self.question, *self.rephrasings]):
            shift = i % 4
            options = self.options[shift:] + self.options[:shift]
            out.append((text, options, (self.answer - shift) % 4))
        return out


class QuestionGenerator(Protocol):
    """Makes questions for a paragraph. ``name`` keys the question cache: change it when output changes."""

    name: str

    def generate(self, paragraph: Paragraph, n: int) -> list[Question]:
        """Up to ``n`` questions (fewer when the paragraph does not support more).

        Raises:
            ModelOutputError: a model-based generator got no usable output after its retries.
        """
        ...


# --- deterministic cloze --------------------------------------------------------------

def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])", text.replace("\n", " "))
    return [p.strip() for p in parts if len(p.split()) >= 5]


def _tokens(sentence: str) -> list[tuple[str, int, int]]:
    return [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(sentence)]


def _shape(word: str) -> str:
    if word.replace(".", "").isdigit():
        return "number"
    if any(c.isdigit() for c in word):
        return "alnum"
    if word[:1].isupper():
        return "title"
    return "lower"


@cache
def _stable_seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def template_words(kb: KnowledgeBase, *, pages: int = 1000, share: float = 0.2) -> frozenset[str]:
    """Words in more than ``share`` of the paragraphs of an evenly spaced sample of ``pages`` pages.

    These are the knowledge base's boilerplate ("section", "archive", "depends"): blanking
    them tests reading, not knowledge.
    """
    stride = max(1, len(kb.pages) // pages)
    counts: dict[str, int] = {}
    total = 0
    for page in kb.pages[::stride]:
        for paragraph in kb.paragraphs(page.id):
            total += 1
            for word in {w.lower() for w, _, _ in _tokens(paragraph.text)}:
                counts[word] = counts.get(word, 0) + 1
    return frozenset(w for w, c in counts.items() if c > share * max(total, 1))


class ClozeGenerator:
    """Blank a content word; distractors are same-slot words from related paragraphs.

    Args:
        related: ``related(paragraph, k)`` -> up to ``k`` paragraphs about nearby topics
            (the search passes nearest pages' paragraphs of the same section).
        rephrasings: extra forms per question (0-3).
        neighbours: how many related paragraphs to draw distractors from.
        boilerplate: words never blanked (see :func:`template_words`); without it, words
            found in most related paragraphs are taken for boilerplate.
        key: folded into :attr:`name` (the cache key): what ``related`` depends on.
    """

    def __init__(self, related: Callable[[Paragraph, int], list[Paragraph]], *, rephrasings: int = 2,
                 neighbours: int = 12, boilerplate: frozenset[str] | None = None, key: str = "") -> None:
        if not 0 <= rephrasings < len(_CLOZE_FORMS):
            raise ValueError(f"rephrasings must be 0-{len(_CLOZE_FORMS) - 1}")
        self.related = related
        self.rephrasings = rephrasings
        self.neighbours = neighbours
        self.boilerplate = boilerplate
        words = hashlib.sha256(" ".join(sorted(boilerplate)).encode()).hexdigest()[:8] if boilerplate else "local"
        self.name = f"cloze-v2:r{rephrasings}:n{neighbours}:b{words}" + (f":{key}" if key else "")

    def generate(self, paragraph: Paragraph, n: int) -> list[Question]:
        rng = random.Random(_stable_seed(f"{self.name}|{paragraph.id}"))
        related = [p for p in self.related(paragraph, self.neighbours) if p.id != paragraph.id]
        own = {w.lower() for w, _, _ in _tokens(paragraph.text)}
        page_words = {w.lower() for w, _, _ in _tokens(paragraph.page_name)} | {paragraph.page_name.lower()}
        # Words found in most related paragraphs are the template, not the knowledge.
        doc_freq: dict[str, int] = {}
        pool: list[tuple[str, str, str]] = []  # (word, previous word, next word)
        for other in related:
            seen: set[str] = set()
            for sentence in _sentences(other.text):
                toks = _tokens(sentence)
                for i, (word, _, _) in enumerate(toks):
                    seen.add(word.lower())
                    pool.append((word, toks[i - 1][0].lower() if i else "", toks[i + 1][0].lower()
                                 if i + 1 < len(toks) else ""))
            for word in seen:
                doc_freq[word] = doc_freq.get(word, 0) + 1
        candidates = []
        for s_index, sentence in enumerate(_sentences(paragraph.text)):
            toks = _tokens(sentence)
            for i, (word, start, end) in enumerate(toks):
                low = word.lower()
                if len(word) < 3 or low in _STOP or low in page_words:
                    continue
                if (low in self.boilerplate if self.boilerplate is not None
                        else doc_freq.get(low, 0) * 2 > max(len(related), 1)):
                    continue
                prev = toks[i - 1][0].lower() if i else ""
                nxt = toks[i + 1][0].lower() if i + 1 < len(toks) else ""
                scored: dict[str, float] = {}
                for other_word, o_prev, o_next in pool:
                    o_low = other_word.lower()
                    if o_low in own or o_low in _STOP or len(other_word) < 2:
                        continue
                    score = 2.0 * (o_prev == prev) + 2.0 * (o_next == nxt) + (_shape(other_word) == _shape(word))
                    score -= min(abs(len(other_word) - len(word)), 8) / 16
                    if score >= 1.0 and score > scored.get(other_word, -1.0):
                        scored[other_word] = score
                distinct: dict[str, tuple[float, float, str]] = {}
                for other_word, score in scored.items():
                    key = other_word.lower()
                    entry = (score, rng.random(), other_word)
                    if key != low and (key not in distinct or entry > distinct[key]):
                        distinct[key] = entry
                best = sorted(distinct.values(), reverse=True)[:3]
                if len(best) == 3:
                    candidates.append((sum(b[0] for b in best), rng.random(), s_index, word, start, end, sentence,
                                       [b[2] for b in best]))
        candidates.sort(key=lambda c: (-c[0], c[1]))
        questions: list[Question] = []
        used_sentences: set[int] = set()
        used_words: set[str] = set()
        for _, _, s_index, word, start, end, sentence, distractors in candidates:
            if len(questions) >= n:
                break
            if s_index in used_sentences or word.lower() in used_words:
                continue
            used_sentences.add(s_index)
            used_words.add(word.lower())
            cloze = sentence[:start] + BLANK + sentence[end:]
            options = [word, *distractors]
            rng.shuffle(options)
            texts = [form.format(page=paragraph.page_name, heading=paragraph.heading or "summary", cloze=cloze)
                     for form in _CLOZE_FORMS[:1 + self.rephrasings]]
            questions.append(Question(id=f"{paragraph.id}/q{len(questions)}", paragraph_id=paragraph.id,
                                      question=texts[0], options=options, answer=options.index(word),
                                      rephrasings=texts[1:], generator=self.name))
        return questions


# --- model-based ----------------------------------------------------------------------

class _DraftQuestion(BaseModel):
    model_config = ConfigDict(extra="ignore")

    question: str = Field(min_length=5)
    options: list[str] = Field(min_length=4, max_length=4)
    answer: int
    rephrasings: list[str] = Field(default_factory=list)

    @field_validator("answer", mode="before")
    @classmethod
    def _letter(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().strip("()").upper()[:1]
            if value not in LETTERS:
                raise ValueError("answer must be one of A, B, C, D")
            return LETTERS.index(value)
        return value

    @model_validator(mode="after")
    def _check(self) -> _DraftQuestion:
        if not 0 <= self.answer < 4:
            raise ValueError("answer must be one of A, B, C, D")
        if len({o.strip().lower() for o in self.options}) != 4 or any(not o.strip() for o in self.options):
            raise ValueError("the four options must be non-empty and different")
        return self


class _Draft(BaseModel):
    questions: list[_DraftQuestion] = Field(min_length=1)


def _json_block(text: str) -> str:
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, flags=re.DOTALL)
    if fenced:
        return fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    return text[start:end + 1] if 0 <= start < end else text


class ModelGenerator:
    """Questions written by a chat model (``steadyhand.models.load`` spec), validated and retried."""

    def __init__(self, model: BaseChatModel, spec: str, *, rephrasings: int = 2, retries: int = 2) -> None:
        self.model = model
        self.rephrasings = rephrasings
        self.retries = retries
        self.name = f"model-v1:{spec}:r{rephrasings}"

    def generate(self, paragraph: Paragraph, n: int) -> list[Question]:
        messages: list[BaseMessage] = [HumanMessage(render_prompt(
            "generate.j2", n=n, rephrasings=self.rephrasings, heading=paragraph.heading or "summary",
            page=paragraph.page_name, text=paragraph.text))]
        error = ""
        for _ in range(self.retries + 1):
            reply = self.model.invoke(messages)
            text = reply.content if isinstance(reply.content, str) else str(reply.content)
            try:
                draft = _Draft.model_validate(json.loads(_json_block(text)))
            except (json.JSONDecodeError, ValidationError) as exc:
                error = str(exc).splitlines()[0] if isinstance(exc, json.JSONDecodeError) else "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3])
                messages += [AIMessage(text), HumanMessage(render_prompt("retry.j2", error=error))]
                continue
            return [Question(id=f"{paragraph.id}/q{i}", paragraph_id=paragraph.id, question=q.question,
                             options=[o.strip() for o in q.options], answer=q.answer,
                             rephrasings=q.rephrasings[:self.rephrasings], generator=self.name)
                    for i, q in enumerate(draft.questions[:n])]
        raise ModelOutputError(f"question generator gave no valid JSON for {paragraph.id} after "
                               f"{self.retries + 1} tries: {error}")
