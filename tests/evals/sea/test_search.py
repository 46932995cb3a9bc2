"""SEA's search mechanics, exactly, with scripted generator and testee (see conftest.py)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from steadyhand.core.errors import ConfigurationError, ModelOutputError
from steadyhand.evals.sea import Page, SearchConfig, SeaStore, StudySpec, open_context, run_search, run_study, write_kb
from steadyhand.evals.sea.embed import HashingEmbedder
from steadyhand.evals.sea.search import SearchContext

CONFIG = SearchConfig(budget=240, batch_size=6, top_k_pages=5, paragraphs_per_source=3, questions_per_paragraph=2)


def _spec(kb: Path, scripts: dict[str, Path], testee: Path | None = None) -> StudySpec:
    return StudySpec(kb=str(kb), testee=f"scripted:{testee or scripts['testee']}",
                     generator=f"scripted:{scripts['generator']}", embedder="hashing")


def _context(kb: Path, scripts: dict[str, Path], store: SeaStore, tmp_path: Path,
             config: SearchConfig = CONFIG, testee: Path | None = None) -> SearchContext:
    return open_context(_spec(kb, scripts, testee), config, store, embedder=HashingEmbedder(),
                        vector_dir=tmp_path / "vectors")


# With the hashing embedder, a volcanic paragraph has ~29 volcanic and ~9 other paragraphs above cosine 0.5.
BY_PARAGRAPH = {"retrieval": "paragraphs", "min_similarity": 0.5}


@pytest.mark.parametrize(("selection", "retrieval", "fill"), [
    ("uniform", "pages", "uniform"), ("nearest", "pages", "uniform"), ("predicted", "pages", "uniform"),
    ("nearest", "paragraphs", "uniform"), ("nearest", "paragraphs", "dense")])
def test_sea_finds_more_errors_than_random_at_equal_budget(synthetic_kb: Path, scripts: dict[str, Path],
                                                           tmp_path: Path, selection: str, retrieval: str,
                                                           fill: str) -> None:
    store = SeaStore(f"sqlite:///{tmp_path / 'sea.db'}")
    totals = {"sea": 0, "random": 0}
    for seed in (0, 1, 2):
        config = CONFIG.model_copy(update={"seed": seed, "selection": selection, "fill": fill,
                                           "carry_candidates": selection != "uniform"})
        if retrieval == "paragraphs":
            config = config.model_copy(update=BY_PARAGRAPH)
        ctx = _context(synthetic_kb, scripts, store, tmp_path, config)
        result = run_study(_spec(synthetic_kb, scripts), config, study=f"s{seed}", context=ctx)
        for method, summary in result.runs.items():
            assert summary.calls <= config.budget
            assert summary.calls > config.budget - 6 * 6  # spent, up to one paragraph's worth per step
            totals[method] += summary.errors
        # Same seed, same first batch: both methods start from the same random sample (unless SEA fills densely).
        first = {m: store.steps(f"s{seed}:{m}")[0].batch for m in ("sea", "random")}
        assert (first["sea"] == first["random"]) == (fill == "uniform")
    # The weak topic is 12.5% of the paragraphs: random finds about that share, SEA follows its errors.
    assert totals["random"] > 0
    assert totals["sea"] >= 2 * totals["random"], totals


def test_relation_dag_links_found_paragraphs_to_their_source(synthetic_kb: Path, scripts: dict[str, Path],
                                                             tmp_path: Path) -> None:
    store = SeaStore(f"sqlite:///{tmp_path / 'sea.db'}")
    ctx = _context(synthetic_kb, scripts, store, tmp_path)
    run_search(ctx, "sea", "dag", CONFIG)
    results = store.paragraph_results("dag:sea")
    by_id = {r.paragraph_id: r for r in results}
    children = [r for r in results if r.parent_id is not None]
    assert children, "SEA never expanded a source"
    for child in children:
        parent = by_id[child.parent_id]
        assert parent.is_source and parent.step < child.step
    # Pages are removed from the index once retrieved: no page is retrieved twice.
    removed = [p for step in store.steps("dag:sea") for p in step.removed_pages]
    assert len(removed) == len(set(removed)) > 0
    # Each paragraph is tested once.
    assert len(results) == len({r.paragraph_id for r in results})


def test_sources_whose_neighbourhood_is_answered_well_are_pruned(synthetic_kb: Path, scripts: dict[str, Path],
                                                                 tmp_path: Path) -> None:
    # xi = 0: any error makes a source; gamma = 0.2: a source is pruned once its subtree is mostly right.
    config = CONFIG.model_copy(update={"xi": 0.0, "gamma": 0.2})
    store = SeaStore(f"sqlite:///{tmp_path / 'sea.db'}")
    run_search(_context(synthetic_kb, scripts, store, tmp_path, config), "sea", "prune", config)
    pruned = [p for step in store.steps("prune:sea") for p in step.pruned]
    assert pruned
    results = {r.paragraph_id: r for r in store.paragraph_results("prune:sea")}
    later_parents = {r.parent_id: r.step for r in results.values() if r.parent_id}
    pruned_at = {p: s.step for s in store.steps("prune:sea") for p in s.pruned}
    for source, step in pruned_at.items():
        assert later_parents.get(source, -1) <= step  # never expanded after it was pruned


def test_paragraph_retrieval_draws_near_active_sources_and_removes_no_page(
        synthetic_kb: Path, scripts: dict[str, Path], tmp_path: Path) -> None:
    config = CONFIG.model_copy(update={**BY_PARAGRAPH, "selection": "nearest"})
    store = SeaStore(f"sqlite:///{tmp_path / 'sea.db'}")
    ctx = _context(synthetic_kb, scripts, store, tmp_path, config)
    run_search(ctx, "sea", "para", config)
    results = {r.paragraph_id: r for r in store.paragraph_results("para:sea")}
    children = [r for r in results.values() if r.parent_id is not None]
    assert len(children) > len(results) // 2
    pruned_at = {p: s.step for s in store.steps("para:sea") for p in s.pruned}
    for child in children:
        parent = results[child.parent_id]
        assert parent.is_source and parent.step < child.step < pruned_at.get(parent.paragraph_id, 10**6) + 1
        vectors = ctx.retriever.paragraph_vectors([ctx.kb.paragraph(child.paragraph_id),
                                                   ctx.kb.paragraph(parent.paragraph_id)])
        assert float(vectors[0] @ vectors[1]) >= 0.5 - 1e-6
    assert all(not s.removed_pages for s in store.steps("para:sea"))
    assert len(results) == len(store.paragraph_results("para:sea"))  # each paragraph tested once


def _clustered_kb(path: Path) -> Path:
    """6 groups of 8 pages that say nearly the same thing (cosine >= 0.8 under the hashing embedder, < 0.8 across
    groups), and 60 pages unlike any other."""
    rng = random.Random(3)
    vocabulary = [f"{a}{b}{c}" for a in "bcdfgklmnp" for b in "aeiou" for c in "rstvz"]
    rng.shuffle(vocabulary)
    pages = [Page(id=f"t:dup{g}-{i}", name=f"dup{g}-{i}",
                  wikitext=f"## Where\nThe names {' '.join(vocabulary[10 * g:10 * g + 10])} are defined beside "
                           f"item {i}.\n")
             for g in range(6) for i in range(8)]
    pages += [Page(id=f"t:one-{i}", name=f"one-{i}",
                   wikitext=f"## Body\n{' '.join(rng.sample(vocabulary[60:], 12))}.\n") for i in range(60)]
    rng.shuffle(pages)
    write_kb(pages, path)
    return path


def test_dense_fill_draws_one_paragraph_per_neighbourhood_and_leaves_tested_ones(
        scripts: dict[str, Path], tmp_path: Path) -> None:
    kb = _clustered_kb(tmp_path / "kb.jsonl")
    config = CONFIG.model_copy(update={"retrieval": "paragraphs", "min_similarity": 0.8, "fill": "dense",
                                       "budget": 5 * 6 * 6})
    store = SeaStore(f"sqlite:///{tmp_path / 'sea.db'}")
    ctx = _context(kb, scripts, store, tmp_path, config)  # the testee is right everywhere: no source, all fill
    counts = dict(zip(ctx.retriever.all_paragraph_vectors()[0], ctx.retriever.near_duplicate_counts(0.8),
                      strict=True))
    assert {pid: n for pid, n in counts.items() if pid.startswith("t:dup")} == {
        f"t:dup{g}-{i}#0": 7 for g in range(6) for i in range(8)}
    assert not any(n for pid, n in counts.items() if pid.startswith("t:one"))
    run_study(_spec(kb, scripts), config, study="dense", context=ctx)
    steps = {m: [[pid for pid, _ in s.batch] for s in store.steps(f"dense:{m}")] for m in ("sea", "random")}
    # Only the groups have near-duplicates: SEA's first step draws one page of each, uniform sampling mostly others.
    assert sorted(pid.split("-")[0] for pid in steps["sea"][0]) == [f"t:dup{g}" for g in range(6)]
    assert sum(pid.startswith("t:dup") for pid in steps["random"][0]) < len(steps["random"][0])
    # Once a group is tested, its neighbourhood is explored: later fill goes elsewhere.
    assert not any(pid.startswith("t:dup") for batch in steps["sea"][1:] for pid in batch)
    assert sum(len(batch) for batch in steps["sea"]) == 30


def test_bad_fill_is_refused() -> None:
    with pytest.raises(ValueError, match="fill"):
        SearchConfig(fill="sparse")  # type: ignore[arg-type]


CARRYING = CONFIG.model_copy(update={"carry_candidates": True, "selection": "nearest"})
PARAGRAPHS = CONFIG.model_copy(update={**BY_PARAGRAPH, "selection": "nearest"})
DENSE = PARAGRAPHS.model_copy(update={"fill": "dense"})


@pytest.mark.parametrize("config", [CONFIG, CARRYING, PARAGRAPHS, DENSE],
                         ids=["paper", "carrying", "paragraphs", "dense"])
def test_killed_run_resumes_from_the_store_without_paying_twice(synthetic_kb: Path, scripts: dict[str, Path],
                                                                tmp_path: Path, store_url: str,
                                                                config: SearchConfig) -> None:
    # With carried candidates the resumed run must also rebuild the pool of undrawn candidates.
    reference_store = SeaStore(f"sqlite:///{tmp_path / 'ref.db'}")
    reference = run_search(_context(synthetic_kb, scripts, reference_store, tmp_path, config), "sea", "ref", config)

    # A testee that dies after 60 answers: step 0 takes 36, then one batch of 16 of step 1 gets through.
    testee = tmp_path / "testee.yaml"
    testee.write_text(yaml.safe_dump({"replies": ["I think it is Paris."] * 60}))
    store = SeaStore(store_url)
    with pytest.raises(ModelOutputError):
        run_search(_context(synthetic_kb, scripts, store, tmp_path, config, testee=testee), "sea", "kill", config)
    assert len(store.asks("kill:sea")) == 52  # answers are recorded per testee batch of 16
    assert store.steps("kill:sea")[-1].status == "selected"

    # The model server is back: same spec, a testee that answers again.
    testee.write_text(scripts["testee"].read_text())
    resumed = run_search(_context(synthetic_kb, scripts, store, tmp_path, config, testee=testee), "sea", "kill", config)
    assert (resumed.calls, resumed.errors, resumed.curve) == (reference.calls, reference.errors, reference.curve)
    assert len(store.asks("kill:sea")) == reference.calls  # no answer asked twice
    ref_batches = [s.batch for s in reference_store.steps("ref:sea")]
    assert [s.batch for s in store.steps("kill:sea")] == ref_batches

    # Resuming with other settings is refused; a larger budget is allowed and continues the run.
    with pytest.raises(ConfigurationError, match="batch_size"):
        run_search(_context(synthetic_kb, scripts, store, tmp_path, config, testee=testee), "sea", "kill",
                   config.model_copy(update={"batch_size": 7}))
    more = run_search(_context(synthetic_kb, scripts, store, tmp_path, config, testee=testee), "sea", "kill",
                      config.model_copy(update={"budget": 300}))
    assert reference.calls < more.calls <= 300


def test_token_budget_stops_the_search(synthetic_kb: Path, scripts: dict[str, Path], tmp_path: Path) -> None:
    config = CONFIG.model_copy(update={"token_budget": 500})
    store = SeaStore(f"sqlite:///{tmp_path / 'sea.db'}")
    summary = run_search(_context(synthetic_kb, scripts, store, tmp_path, config), "random", "tok", config)
    per_step = max(s.calls for s in store.steps("tok:random"))
    assert summary.tokens >= 500
    assert summary.calls <= per_step * (1 + 500 // 10)  # stopped soon after crossing the budget
    assert summary.calls < CONFIG.budget


@pytest.mark.parametrize("carry", [False, True])
def test_undrawn_candidates_are_dropped_or_carried(synthetic_kb: Path, scripts: dict[str, Path], tmp_path: Path,
                                                   carry: bool) -> None:
    # A batch of 2 cannot draw all of a step's candidates. The paper drops the rest with their pages;
    # carrying them, later steps draw paragraphs whose pages were retrieved steps before.
    config = CONFIG.model_copy(update={"batch_size": 2, "carry_candidates": carry, "selection": "nearest"})
    store = SeaStore(f"sqlite:///{tmp_path / 'sea.db'}")
    run_search(_context(synthetic_kb, scripts, store, tmp_path, config), "sea", "pool", config)
    retrieved_at = {page: step.step for step in store.steps("pool:sea") for page in step.removed_pages}
    found = [r for r in store.paragraph_results("pool:sea") if r.parent_id is not None]
    assert found
    lags = [r.step - retrieved_at[r.paragraph_id.rpartition("#")[0]] for r in found]
    assert min(lags) == 0
    assert (max(lags) > 0) is carry, lags
