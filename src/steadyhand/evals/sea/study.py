"""A study: SEA and its random baseline on one knowledge base, testee and generator, same budget.

The two lines a script needs::

    from steadyhand.evals.sea import SearchConfig, StudySpec, run_study
    result = run_study(StudySpec(kb="debian", testee="local:smollm2", generator="cloze"),
                       SearchConfig(budget=600, batch_size=10))

``kb`` is a JSONL path in SEA's page format, ``debian`` (the knowledge base built
from Debian's package records, cached), ``python`` (built from the docstrings of
the standard library), or ``debian:N`` / ``python:N`` (an evenly spaced slice of N
pages). ``generator`` is ``cloze`` (deterministic) or a model spec
(``openai:...``, ``local:smollm2``, ``scripted:FILE``...) for the model-based
generator. Running a study id that exists resumes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from steadyhand.core.errors import ConfigurationError
from steadyhand.evals.sea.debian import build_debian_kb
from steadyhand.evals.sea.embed import Embedder, make_embedder
from steadyhand.evals.sea.kb import KnowledgeBase, load_kb
from steadyhand.evals.sea.pydocs import build_python_kb
from steadyhand.evals.sea.questions import ClozeGenerator, ModelGenerator, QuestionGenerator, template_words
from steadyhand.evals.sea.retrieval import Retriever
from steadyhand.evals.sea.search import (
    Method,
    ProgressFn,
    QuestionBank,
    RunSummary,
    SearchConfig,
    SearchContext,
    run_search,
)
from steadyhand.evals.sea.store import SeaStore
from steadyhand.evals.sea.testee import AnswerMode, Testee

__all__ = ["KB_BUILDERS", "StudyResult", "StudySpec", "open_context", "resolve_kb", "run_study"]

#: Built-in knowledge bases by name: Debian's package records and the standard library's docs.
KB_BUILDERS: dict[str, Callable[..., Path]] = {"debian": build_debian_kb, "python": build_python_kb}


class StudySpec(BaseModel):
    """What a study runs against (the search parameters are a :class:`SearchConfig`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kb: str = Field(description="JSONL path, 'debian', 'python', 'debian:N' or 'python:N'")
    testee: str = Field(description="model spec of the model under test")
    generator: str = Field("cloze", description="'cloze' or a model spec")
    embedder: str = Field("minilm", description="'minilm' or 'hashing[:DIM]'")
    rephrasings: int = Field(2, ge=0, le=3, description="extra forms per question")
    testee_batch: int = Field(16, ge=1, description="prompts per testee batch")
    max_new_tokens: int = Field(12, ge=1, description="reply budget of in-process testees")
    answer: AnswerMode = Field("box", description="'box' (the testee writes \\box{X}) or 'likelihood' "
                                                 "(in-process testees: the most likely option)")


@dataclass
class StudyResult:
    """The study id and each method's summary."""

    study: str
    runs: dict[str, RunSummary]


def resolve_kb(kb: str) -> Path:
    """The JSONL file a ``kb`` string names (building a built-in one if needed).

    Raises:
        ConfigurationError: no such file, or the built-in knowledge base's sources are missing.
    """
    name, _, arg = kb.partition(":")
    if name in KB_BUILDERS and not Path(kb).exists():
        if arg and not arg.isdigit():
            raise ConfigurationError(f"--kb {kb!r}: use {name} or {name}:N (N pages)")
        return KB_BUILDERS[name](max_pages=int(arg) if arg else None)
    path = Path(kb).expanduser()
    if not path.is_file():
        raise ConfigurationError(f"knowledge base {kb!r}: no such file (or use 'debian', 'python', 'debian:N' "
                                 "or 'python:N')")
    return path


def _generator(spec: StudySpec, kb: KnowledgeBase, retriever: Retriever) -> QuestionGenerator:
    if spec.generator == "cloze":
        return ClozeGenerator(retriever.related, rephrasings=spec.rephrasings, boilerplate=template_words(kb),
                              key=retriever.embedder.name)
    from steadyhand.models import load

    return ModelGenerator(load(spec.generator), spec.generator, rephrasings=spec.rephrasings)


def open_context(spec: StudySpec, config: SearchConfig, store: SeaStore, *,
                 embedder: Embedder | None = None, kb: KnowledgeBase | None = None,
                 vector_dir: Path | None = None,
                 on_vectors: Callable[[int, int], None] | None = None) -> SearchContext:
    """Load the knowledge base, vectors, generator and testee of a study."""
    path = resolve_kb(spec.kb)
    kb = kb or load_kb(path)
    embedder = embedder or make_embedder(spec.embedder)
    retriever = Retriever(kb, embedder, cache_dir=vector_dir, progress=on_vectors)
    bank = QuestionBank(store, _generator(spec, kb, retriever), kb, config.questions_per_paragraph)
    testee = Testee(spec.testee, batch_size=spec.testee_batch, max_new_tokens=spec.max_new_tokens,
                    answer=spec.answer)
    identity = {"kb": str(path), "kb_fingerprint": kb.fingerprint, "testee": spec.testee,
                "generator": spec.generator, "embedder": embedder.name, "question_cache": bank.key,
                "rephrasings": spec.rephrasings, "answer": spec.answer}
    return SearchContext(kb=kb, retriever=retriever, bank=bank, testee=testee, store=store, identity=identity)


def run_study(spec: StudySpec, config: SearchConfig, *, study: str | None = None,
              methods: Sequence[Method] = ("sea", "random"), store_url: str | None = None,
              progress: ProgressFn | None = None, context: SearchContext | None = None) -> StudyResult:
    """Run (or resume) each method of a study in turn with the same budget, testee and question cache.

    Raises:
        ConfigurationError: bad knowledge base, model spec or embedder; or a resumed
            study was started with other settings.
    """
    store = context.store if context is not None else SeaStore(store_url)
    try:
        ctx = context or open_context(spec, config, store)
        study = study or store.new_study_id()
        runs: dict[str, RunSummary] = {method: run_search(ctx, method, study, config, progress) for method in methods}
    finally:
        if context is None:
            store.close()
    return StudyResult(study=study, runs=runs)
