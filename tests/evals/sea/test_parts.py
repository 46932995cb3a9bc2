"""Unit tests of SEA's parts: page index, relation DAG, answer extraction, embedders, caches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from steadyhand.core.errors import ConfigurationError
from steadyhand.evals.sea import RelationDAG, extract_choice
from steadyhand.evals.sea.embed import Embedder, HashingEmbedder, VectorCache, make_embedder
from steadyhand.evals.sea.index import PageIndex
from steadyhand.evals.sea.store import SeaStore
from steadyhand.evals.sea.testee import scored_texts


def test_page_index_search_and_removal_agree_between_backends() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = PageIndex(vectors, use_faiss=False)
    query = vectors[5]
    hits = index.search(query, 10)
    assert hits[0][0] == 5 and pytest.approx(hits[0][1], abs=1e-5) == 1.0
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    index.remove(r for r, _ in hits)
    again = index.search(query, 10)
    assert not {r for r, _ in hits} & {r for r, _ in again}
    assert len(index) == 290
    brute = np.argsort(-(vectors @ query), kind="stable")
    assert [r for r, _ in again] == [int(r) for r in brute if r not in {h for h, _ in hits}][:10]
    assert index.search(query, 1000)[-1:] and len(index.search(query, 1000)) == 290


def test_dag_cumulative_accuracy_and_pruning() -> None:
    dag = RelationDAG()
    dag.add("s", 0.0)
    dag.add("a", 1.0, "s")
    dag.add("b", 1.0, "s")
    dag.add("c", 0.0, "a")
    dag.add("t", 0.25)
    # Over descendants only (the paper's definition): s led to a, b (right) and c (wrong).
    assert dag.cumulative_accuracy("s") == pytest.approx(2 / 3)
    assert dag.cumulative_accuracy("a") == pytest.approx(0.0)
    assert dag.cumulative_accuracy("t") is None  # led to nothing yet
    assert dag.prune(["s", "a", "t"], 0.5) == ["s"]
    assert dag.prune(["s", "a", "t"], 0.7) == []
    assert dag.prune(["s", "a", "t", "unknown"], 0.0) == ["s"]  # t is kept: nothing to judge it by
    assert dag.children("s") == ["a", "b"] and dag.roots() == ["s", "t"]


@pytest.mark.parametrize(("reply", "expected"), [
    ("\\box{C}", 2),
    ("The answer is \\boxed{b}.", 1),
    ("\\box{A} no wait \\box{(D)}", 3),
    ("B. fonts", 2),  # names exactly one option: that option, whatever letter it wrote
    ("B", 1),
    ("(A) maybe", 0),
    ("I do not know", None),
    ("libs or fonts", None),
])
def test_extract_choice(reply: str, expected: int | None) -> None:
    assert extract_choice(reply, ["libs", "python", "fonts", "games"]) == expected


def test_hashing_embedder_is_deterministic_and_lexical() -> None:
    embedder = HashingEmbedder(256)
    assert isinstance(embedder, Embedder)
    v = embedder.embed(["red apples and pears", "red apples and plums", "tax law of ships"])
    assert v.shape == (3, 256) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0)
    assert v[0] @ v[1] > v[0] @ v[2]
    assert np.array_equal(v, embedder.embed(["red apples and pears", "red apples and plums", "tax law of ships"]))
    with pytest.raises(ConfigurationError, match="unknown embedder"):
        make_embedder("word2vec")


def test_vector_cache_persists_and_never_mixes_models(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path, HashingEmbedder(64), "kb1", "pages")
    first = cache.get(["a", "b", "a"], ["alpha", "beta", "alpha"])
    assert np.array_equal(first[0], first[2])
    cache.flush()
    reopened = VectorCache(tmp_path, HashingEmbedder(64), "kb1", "pages")
    assert "b" in reopened and np.array_equal(reopened.get(["b"]), first[1:2])
    with pytest.raises(KeyError):
        reopened.get(["c"])
    other = VectorCache(tmp_path, HashingEmbedder(32), "kb1", "pages")  # another model: another file
    assert "a" not in other
    meta = next(tmp_path.glob("hashing-bow-64*/kb1-pages.json"))
    meta.write_text(meta.read_text().replace("hashing-bow-64", "something-else"))
    with pytest.raises(ConfigurationError, match="refusing to mix"):
        VectorCache(tmp_path, HashingEmbedder(64), "kb1", "pages")


def test_likelihood_answering_scores_the_filled_blank_or_the_answer_line() -> None:
    assert scored_texts("vim is an ____ editor.", ["old", "new"]) == ["vim is an old editor.", "vim is an new editor."]
    assert scored_texts("Which editor is modal?", ["vim", "nano"]) == ["Which editor is modal?\nAnswer: vim",
                                                                      "Which editor is modal?\nAnswer: nano"]
    # Two blanks: filling one would leave the other, so it is asked as a question.
    assert scored_texts("____ and ____", ["a"]) == ["____ and ____\nAnswer: a"]


@pytest.mark.parametrize(("setting", "old", "new"), [("answer", "box", "likelihood"),
                                                    ("selection", "uniform", "nearest"),
                                                    ("carry_candidates", False, True)])
def test_runs_stored_before_a_setting_existed_resume_with_its_old_value(tmp_path: Path, setting: str, old: object,
                                                                        new: object) -> None:
    store = SeaStore(f"sqlite:///{tmp_path / 'sea.db'}")
    store.create_run("old", "sea", {"testee": "local:smollm2", "batch_size": 10})  # as older versions stored it
    assert store.create_run("old", "sea", {"testee": "local:smollm2", "batch_size": 10, setting: old}) == "old:sea"
    with pytest.raises(ConfigurationError, match=setting):
        store.create_run("old", "sea", {"testee": "local:smollm2", "batch_size": 10, setting: new})
    store.close()
