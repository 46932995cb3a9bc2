"""Stochastic Error Ascent and its random-sampling baseline, under a budget of testee calls.

One step of SEA:

1. every active source error (a tested paragraph whose error rate exceeds ``xi``,
   not pruned; the newest ``max_sources`` if set) retrieves its ``top_k_pages``
   nearest pages from the page index, which are removed from the index for good;
2. each source keeps the ``paragraphs_per_source`` paragraphs of those pages most
   similar to itself; the union is the candidate pool;
3. ``batch_size`` paragraphs are drawn from the pool (topped up at random when
   the pool is short), their questions asked in every form;
4. new paragraphs join the relation DAG under the source that found them, new
   source errors join the sources, and sources whose cumulative accuracy (the mean
   accuracy of the paragraphs they led to, directly or not) exceeds
   ``gamma`` are pruned.

Step 3 draws uniformly at random, as the paper does (``selection="uniform"``), and
what it leaves is dropped with its pages. Two options go beyond the paper, for small
budgets where each call counts: ``carry_candidates`` keeps undrawn candidates in the
pool for later steps (until tested, or their source is pruned), and ``selection``
``"nearest"`` draws the candidates most similar to their source first, while
``"predicted"`` draws first those whose nearest tested paragraphs (by embedding,
similarity-weighted) had the highest error rates, so that every answer so far, right
or wrong, steers the search. Both are deterministic functions of the store, so a
resumed run rebuilds the pool by retrieving again.

``retrieval="paragraphs"`` replaces steps 1 and 2: the candidates are every untested
paragraph of the knowledge base whose cosine similarity to an active source is at
least ``min_similarity``, each under its most similar source. No page is removed, and
the pool is rebuilt every step from the active sources, so nothing is carried. It is
for testees whose errors cluster only among near-duplicates of an error (measure it
with :mod:`steadyhand.evals.sea.structure`): a source's nearest pages hold some of
those, and many paragraphs that are not.

The first step has no sources and samples at random, exactly like the baseline's
first step with the same seed. The baseline samples every step uniformly from the
untested paragraphs. Both stop when the budget cannot pay for another paragraph.

``fill="dense"`` changes how SEA draws when it has too few candidates, its first step
included: a paragraph is drawn with probability proportional to its number of untested
near-duplicates (cosine at least ``min_similarity``), one per neighbourhood, and never
next to a paragraph already tested or drawn; paragraphs without near-duplicates come
next, and only then the rest, uniformly. An error found there comes with
near-duplicates to retrieve next, and with some testees such paragraphs are more often
wrong to begin with (``benchmarks/sea_vs_random.py`` measures both). The baseline
always samples uniformly.

Every step is recorded before its questions are asked, and every answer as it
arrives; :func:`run_search` on an existing run replays the store and continues.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from steadyhand.core.errors import ModelOutputError
from steadyhand.evals.sea.dag import RelationDAG
from steadyhand.evals.sea.kb import KnowledgeBase, Paragraph
from steadyhand.evals.sea.questions import Question, QuestionGenerator
from steadyhand.evals.sea.retrieval import Retriever
from steadyhand.evals.sea.store import SeaStore
from steadyhand.evals.sea.testee import Testee, extract_choice

__all__ = ["Method", "QuestionBank", "RunSummary", "SearchConfig", "SearchContext", "run_search"]

Method = Literal["sea", "random"]

#: Tested paragraphs whose error rates predict a candidate's (``selection="predicted"``).
_NEIGHBOURS = 5


class SearchConfig(BaseModel):
    """SEA's parameters (the paper's defaults) and the budget."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    budget: int = Field(1000, ge=1, description="testee calls")
    token_budget: int | None = Field(None, ge=1, description="testee tokens (in + out); none: unlimited")
    batch_size: int = Field(40, ge=1, description="paragraphs per step")
    top_k_pages: int = Field(50, ge=1, description="pages retrieved per source error")
    paragraphs_per_source: int = Field(10, ge=1)
    questions_per_paragraph: int = Field(2, ge=1)
    xi: float = Field(0.5, ge=0, le=1, description="error rate above which a paragraph is a source error")
    gamma: float = Field(0.5, ge=0, le=1, description="cumulative accuracy above which a source is pruned")
    max_sources: int | None = Field(None, ge=1, description="expand at most this many sources per step (newest)")
    selection: Literal["uniform", "nearest", "predicted"] = Field(
        "uniform", description="how a step draws its batch from the candidates: uniformly at random (the paper), "
                               "the most similar to their source first, or the highest error predicted from the "
                               "nearest tested paragraphs first")
    carry_candidates: bool = Field(
        False, description="candidates a step does not draw stay in the pool for later steps while their source "
                           "is active (the paper drops them with their pages)")
    retrieval: Literal["pages", "paragraphs"] = Field(
        "pages", description="how a source finds candidates: its nearest pages' most similar paragraphs (the "
                             "paper), or every untested paragraph at least min_similarity from it")
    min_similarity: float = Field(
        0.85, ge=-1, le=1, description="cosine similarity from which two paragraphs are near-duplicates: "
                                       "retrieval='paragraphs' takes a source's, fill='dense' counts them")
    fill: Literal["uniform", "dense"] = Field(
        "uniform", description="how SEA draws when its candidates run short (and in its first step): uniformly "
                               "at random (the paper), or weighted by each paragraph's untested near-duplicates, "
                               "away from those tested")
    seed: int = 0


class QuestionBank:
    """Questions per paragraph from one generator, through the store's cache."""

    def __init__(self, store: SeaStore, generator: QuestionGenerator, kb: KnowledgeBase, n: int) -> None:
        self.store = store
        self.generator = generator
        self.kb = kb
        self.n = n
        self.key = f"{kb.fingerprint}|{generator.name}|n{n}"
        self._memo: dict[str, list[Question]] = {}

    def get(self, paragraphs: list[Paragraph]) -> dict[str, list[Question]]:
        """Questions for each paragraph (an empty list when it supports none)."""
        missing = [p.id for p in paragraphs if p.id not in self._memo]
        if missing:
            self._memo.update(self.store.cached_questions(self.key, missing))
        for p in paragraphs:
            if p.id not in self._memo:
                try:
                    questions, error = self.generator.generate(p, self.n), None
                except ModelOutputError as exc:
                    questions, error = [], str(exc)
                self.store.cache_questions(self.key, p.id, questions, error)
                self._memo[p.id] = questions
        return {p.id: self._memo[p.id] for p in paragraphs}


@dataclass
class SearchContext:
    """What a search runs against: live handles, never stored."""

    kb: KnowledgeBase
    retriever: Retriever
    bank: QuestionBank
    testee: Testee
    store: SeaStore
    identity: dict[str, Any] = field(default_factory=dict)  # kb, testee, generator, embedder names
    _paragraph_ids: list[str] | None = None

    def paragraph_ids(self) -> list[str]:
        if self._paragraph_ids is None:
            self._paragraph_ids = self.kb.paragraph_ids()
        return self._paragraph_ids


@dataclass
class RunSummary:
    """What a finished (or budget-stopped) run found."""

    run_id: str
    method: str
    calls: int
    tokens: int
    errors: int
    questions: int
    steps: int
    seconds: float
    curve: list[tuple[int, int, int]]  # (step, calls so far, errors so far)

    @property
    def errors_per_1k(self) -> float:
        return 1000.0 * self.errors / self.calls if self.calls else 0.0

    @property
    def seconds_per_step(self) -> float:
        return self.seconds / self.steps if self.steps else 0.0


ProgressFn = Callable[[str, int, int, int], None]  # (run id, calls used, budget, errors so far)


@dataclass
class _State:
    tested: set[str] = field(default_factory=set)
    dag: RelationDAG = field(default_factory=RelationDAG)
    sources: list[str] = field(default_factory=list)  # active, in discovery order
    pruned: set[str] = field(default_factory=set)
    pool: dict[str, tuple[str, float]] = field(default_factory=dict)  # carried candidates: (source, similarity)
    calls: int = 0
    tokens: int = 0
    errors: int = 0
    questions: int = 0
    curve: list[tuple[int, int, int]] = field(default_factory=list)
    seconds: float = 0.0


def _question_result(asks: list[bool]) -> tuple[float, bool]:
    wrong = sum(1 for ok in asks if not ok)
    return wrong / len(asks), wrong * 2 > len(asks)


class _Search:
    def __init__(self, ctx: SearchContext, method: Method, study: str, config: SearchConfig,
                 progress: ProgressFn | None) -> None:
        self.ctx = ctx
        self.method = method
        self.config = config
        self.progress = progress
        self.run_id = ctx.store.create_run(study, method, {**ctx.identity, **config.model_dump()})
        self.index = ctx.retriever.new_page_index() if method == "sea" else None
        self.state = _State()

    # --- replay -------------------------------------------------------------------

    def _replay(self) -> int:
        """Rebuild the state from the store; returns the first step still to finish."""
        store, state, kb = self.ctx.store, self.state, self.ctx.kb
        results = {r.paragraph_id: r for r in store.paragraph_results(self.run_id)}
        next_step = 0
        for row in store.steps(self.run_id):
            if self.index is not None and self.config.carry_candidates and self.config.retrieval == "pages":
                self._candidates()  # the carried pool is rebuilt by retrieving again, as the step did
            if self.index is not None:
                self.index.remove(kb.page_position(p) for p in row.removed_pages)
            if row.status != "done":
                break
            for pid, parent in row.batch:
                result = results.get(pid)
                if result is None:
                    continue
                state.tested.add(pid)
                state.dag.add(pid, 1.0 - result.error_rate, parent)
                state.questions += result.questions
                state.errors += result.error_questions
                if result.is_source:
                    state.sources.append(pid)
            state.pruned.update(row.pruned)
            state.sources = [s for s in state.sources if s not in state.pruned]
            state.calls += row.calls
            state.seconds += row.seconds
            state.curve.append((row.step, state.calls, state.errors))
            next_step = row.step + 1
        state.tokens = sum(a.input_tokens + a.output_tokens for a in store.asks(self.run_id))
        return next_step

    # --- selection ----------------------------------------------------------------

    def _fill(self, step: int, chosen: dict[str, str | None], want: int) -> None:
        """Top ``chosen`` up to ``want`` paragraphs with no parent (the config's fill; uniform for the baseline)."""
        if self.method == "sea" and self.config.fill == "dense":
            self._take(self._dense_order(step, chosen), chosen, want)
        if len(chosen) < want:
            ids = self.ctx.paragraph_ids()
            order = np.random.default_rng([self.config.seed, step, 0]).permutation(len(ids))
            self._take((ids[i] for i in order), chosen, want)

    def _take(self, ordered: Iterable[str], chosen: dict[str, str | None], want: int) -> None:
        """Add untested paragraphs that have questions, in order, until ``want`` are chosen."""
        block: list[Paragraph] = []
        for pid in itertools.chain(ordered, [None]):
            if pid is not None and pid not in self.state.tested and pid not in chosen:
                block.append(self.ctx.kb.paragraph(pid))
            if block and (pid is None or len(block) >= 4 * want + 16):
                questions = self.ctx.bank.get(block)
                for p in block:
                    if len(chosen) >= want:
                        return
                    if questions[p.id]:
                        chosen[p.id] = None
                block = []

    def _dense_order(self, step: int, chosen: dict[str, str | None]) -> list[str]:
        """Paragraphs to fill from: those with untested near-duplicates, drawn in proportion to how many, then
        those with none; none near a paragraph tested, chosen or earlier in the list (enough for one batch).

        Weighted sampling without replacement: log weight plus Gumbel noise, sorted (Efraimidis and Spirakis).
        """
        retriever, threshold = self.ctx.retriever, self.config.min_similarity
        ids, vectors = retriever.all_paragraph_vectors()
        counts = retriever.near_duplicate_counts(threshold).astype(np.float64)
        explored = np.zeros(len(ids), dtype=bool)
        taken = [retriever.paragraph_position(pid) for pid in [*sorted(self.state.tested), *chosen]]
        if taken:
            near = vectors @ vectors[taken].T >= threshold
            counts -= near.sum(axis=1)
            explored = near.any(axis=1)
            explored[taken] = True
        rng = np.random.default_rng([self.config.seed, step, 2])
        dense = np.flatnonzero(~explored & (counts > 0))
        alone = np.flatnonzero(~explored & (counts <= 0))
        keys = np.log(counts[dense]) + rng.gumbel(size=len(dense))
        order = [*dense[np.argsort(-keys, kind="stable")], *rng.permutation(alone)]
        # One paragraph per neighbourhood: the next is drawn away from those drawn before it.
        spread: list[int] = []
        for i in order:
            if not spread or float(np.max(vectors[spread] @ vectors[i])) < threshold:
                spread.append(i)
                if len(spread) >= 4 * self.config.batch_size + 16:
                    break
        return [ids[i] for i in spread]

    def _retrieve(self, pool: dict[str, tuple[str, float]]) -> list[str]:
        """Add each source's nearest paragraphs to ``pool`` (keeping a paragraph's best source); the pages taken."""
        assert self.index is not None
        cfg, kb, retriever = self.config, self.ctx.kb, self.ctx.retriever
        sources = self.state.sources[-cfg.max_sources:] if cfg.max_sources else list(self.state.sources)
        removed: list[str] = []
        for source in sources:
            vector = retriever.paragraph_vectors([kb.paragraph(source)])[0]
            hits = self.index.search(vector, cfg.top_k_pages)
            self.index.remove(row for row, _ in hits)
            pages = [kb.pages[row].id for row, _ in hits]
            removed.extend(pages)
            paragraphs = [p for page in pages for p in kb.paragraphs(page) if p.id not in self.state.tested]
            if not paragraphs:
                continue
            sims = retriever.paragraph_vectors(paragraphs) @ vector
            for i in np.argsort(-sims, kind="stable")[:cfg.paragraphs_per_source]:
                pid, sim = paragraphs[i].id, float(sims[i])
                if pid not in pool or sim > pool[pid][1]:
                    pool[pid] = (source, sim)
        retriever.flush()
        return removed

    def _retrieve_paragraphs(self) -> dict[str, tuple[str, float]]:
        """Every untested paragraph at least ``min_similarity`` from an active source, with its most similar one."""
        cfg, kb, retriever, state = self.config, self.ctx.kb, self.ctx.retriever, self.state
        sources = state.sources[-cfg.max_sources:] if cfg.max_sources else list(state.sources)
        if not sources:
            return {}
        ids, vectors = retriever.all_paragraph_vectors()
        sims = vectors @ retriever.paragraph_vectors([kb.paragraph(s) for s in sources]).T
        best, nearest = sims.max(axis=1), sims.argmax(axis=1)
        return {ids[i]: (sources[nearest[i]], float(best[i])) for i in np.flatnonzero(best >= cfg.min_similarity)
                if ids[i] not in state.tested}

    def _candidates(self) -> tuple[dict[str, tuple[str, float]], list[str]]:
        """This step's candidates, (source, similarity) by paragraph, and the pages retrieved for them."""
        state = self.state
        if self.config.retrieval == "paragraphs":
            # A function of the active sources and the tested set: nothing to carry, no pages to remove.
            state.pool = self._retrieve_paragraphs()
            return state.pool, []
        pool = state.pool if self.config.carry_candidates else {}
        removed = self._retrieve(pool) if state.sources else []
        for pid in [pid for pid, (source, _) in pool.items() if pid in state.tested or source in state.pruned]:
            del pool[pid]
        return pool, removed

    def _by_predicted_error(self, pool: dict[str, tuple[str, float]]) -> list[str]:
        """Candidates by the error rate of their nearest tested paragraphs (similarity-weighted), highest first."""
        kb, retriever, graph = self.ctx.kb, self.ctx.retriever, self.state.dag.graph
        tested = sorted(self.state.tested)
        ids = sorted(pool)
        if not ids or not tested:
            return ids
        errors = np.array([1.0 - graph.nodes[t]["accuracy"] for t in tested])
        sims = (retriever.paragraph_vectors([kb.paragraph(i) for i in ids])
                @ retriever.paragraph_vectors([kb.paragraph(t) for t in tested]).T)
        retriever.flush()
        k = min(_NEIGHBOURS, len(tested))
        nearest = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        weights = np.take_along_axis(sims, nearest, axis=1).clip(min=1e-6)
        predicted = (weights * errors[nearest]).sum(axis=1) / weights.sum(axis=1)
        order = sorted(range(len(ids)), key=lambda i: (-round(float(predicted[i]), 6), -pool[ids[i]][1], ids[i]))
        return [ids[i] for i in order]

    def _select(self, step: int) -> tuple[list[tuple[str, str | None]], list[str]]:
        cfg = self.config
        chosen: dict[str, str | None] = {}
        removed: list[str] = []
        if self.method == "sea" and (self.state.sources or self.state.pool):
            pool, removed = self._candidates()
            if cfg.selection == "nearest":
                candidates = sorted(pool, key=lambda pid: (-pool[pid][1], pid))
            elif cfg.selection == "predicted":
                candidates = self._by_predicted_error(pool)
            else:
                rng = np.random.default_rng([cfg.seed, step, 1])
                ordered = sorted(pool)
                candidates = [ordered[i] for i in rng.permutation(len(ordered))]
            for start in range(0, len(candidates), cfg.batch_size):
                block = [self.ctx.kb.paragraph(pid) for pid in candidates[start:start + cfg.batch_size]]
                questions = self.ctx.bank.get(block)
                for p in block:
                    if len(chosen) < cfg.batch_size and questions[p.id]:
                        chosen[p.id] = pool[p.id][0]
                if len(chosen) >= cfg.batch_size:
                    break
        if len(chosen) < cfg.batch_size:
            self._fill(step, chosen, cfg.batch_size)
        # Trim to what the budget can pay for.
        questions = self.ctx.bank.get([self.ctx.kb.paragraph(pid) for pid in chosen])
        remaining = cfg.budget - self.state.calls
        batch: list[tuple[str, str | None]] = []
        for pid, parent in chosen.items():
            cost = sum(len(q.forms()) for q in questions[pid])
            if cost <= remaining:
                batch.append((pid, parent))
                remaining -= cost
        return batch, removed

    # --- asking -------------------------------------------------------------------

    def _ask(self, step: int, batch: list[tuple[str, str | None]]) -> dict[str, bool]:
        """Answer every form of the batch's questions not answered yet; returns correctness per ask key."""
        store, kb = self.ctx.store, self.ctx.kb
        done = {f"{a.question_id}|{a.form}": a.correct for a in store.asks(self.run_id, step)}
        questions = self.ctx.bank.get([kb.paragraph(pid) for pid, _ in batch])
        todo: list[tuple[Question, int, str, list[str], int]] = []
        for pid, _ in batch:
            for q in questions[pid]:
                for form, (text, options, answer) in enumerate(q.forms()):
                    if f"{q.id}|{form}" not in done:
                        todo.append((q, form, text, options, answer))
        size = self.ctx.testee.batch_size
        for start in range(0, len(todo), size):
            chunk = todo[start:start + size]
            replies = self.ctx.testee.answer([(text, options) for _, _, text, options, _ in chunk])
            rows = []
            for (q, form, _, options, answer), reply in zip(chunk, replies, strict=True):
                choice = extract_choice(reply.text, options)
                rows.append({"step": step, "paragraph_id": q.paragraph_id, "question_id": q.id, "form": form,
                             "reply": reply.text, "choice": choice, "correct": choice == answer,
                             "input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens,
                             "latency_s": reply.latency_s})
                done[f"{q.id}|{form}"] = choice == answer
                self.state.tokens += reply.input_tokens + reply.output_tokens
            store.add_asks(self.run_id, rows)
            if self.progress:
                self.progress(self.run_id, self.state.calls + len(done), self.config.budget, self.state.errors)
        return done

    def _finish_step(self, step: int, batch: list[tuple[str, str | None]], done: dict[str, bool],
                     seconds: float) -> None:
        cfg, state = self.config, self.state
        questions = self.ctx.bank.get([self.ctx.kb.paragraph(pid) for pid, _ in batch])
        results, calls, errors = [], 0, 0
        for pid, parent in batch:
            rates, n_errors = [], 0
            for q in questions[pid]:
                asks = [done[f"{q.id}|{form}"] for form in range(len(q.forms()))]
                calls += len(asks)
                rate, is_error = _question_result(asks)
                rates.append(rate)
                n_errors += is_error
            error_rate = sum(rates) / len(rates)
            is_source = error_rate > cfg.xi
            results.append({"paragraph_id": pid, "parent_id": parent, "questions": len(rates),
                            "error_questions": n_errors, "error_rate": error_rate, "is_source": is_source})
            state.tested.add(pid)
            state.dag.add(pid, 1.0 - error_rate, parent)
            state.questions += len(rates)
            errors += n_errors
            if is_source:
                state.sources.append(pid)
        pruned = state.dag.prune(state.sources, cfg.gamma) if self.method == "sea" else []
        state.pruned.update(pruned)
        state.sources = [s for s in state.sources if s not in state.pruned]
        state.calls += calls
        state.errors += errors
        state.seconds += seconds
        state.curve.append((step, state.calls, state.errors))
        self.ctx.store.finish_step(self.run_id, step, results, pruned=pruned, calls=calls, errors=errors,
                                   seconds=seconds)

    # --- the loop -----------------------------------------------------------------

    def run(self) -> RunSummary:
        step = self._replay()
        pending = {row.step: row for row in self.ctx.store.steps(self.run_id) if row.status != "done"}
        cfg = self.config
        while True:
            if cfg.token_budget is not None and self.state.tokens >= cfg.token_budget:
                break
            started = time.perf_counter()
            if step in pending:
                batch = [(pid, parent) for pid, parent in pending[step].batch]
            else:
                if self.state.calls >= cfg.budget:
                    break
                batch, removed = self._select(step)
                if not batch:
                    break
                self.ctx.store.start_step(self.run_id, step, batch, removed)
            try:
                done = self._ask(step, batch)
            except BaseException:
                self.ctx.store.add_step_seconds(self.run_id, step, time.perf_counter() - started)
                raise
            self._finish_step(step, batch, done, time.perf_counter() - started)
            step += 1
        self.ctx.store.finish_run(self.run_id)
        s = self.state
        return RunSummary(self.run_id, self.method, s.calls, s.tokens, s.errors, s.questions, len(s.curve),
                          s.seconds, s.curve)


def run_search(ctx: SearchContext, method: Method, study: str, config: SearchConfig,
               progress: ProgressFn | None = None) -> RunSummary:
    """Run (or resume) one search of ``study`` until its budget is spent.

    Raises:
        ConfigurationError: the run exists with other settings.
    """
    return _Search(ctx, method, study, config, progress).run()
