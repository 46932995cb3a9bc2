from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from steadyhand.core.errors import ConfigurationError
from steadyhand.evals.sea import SearchConfig, SeaStore, StudySpec, open_context, run_study
from steadyhand.evals.sea.embed import HashingEmbedder
from steadyhand.evals.sea.structure import error_lift_by_similarity, leave_one_out_top_shares, paragraph_errors


def _two_groups(n: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """n near-duplicates along x (all wrong), n along y (all right): the groups are orthogonal."""
    rng = np.random.default_rng(0)
    a = np.array([1.0, 0.0, 0.0]) + 0.01 * rng.standard_normal((n, 3))
    b = np.array([0.0, 1.0, 0.0]) + 0.01 * rng.standard_normal((n, 3))
    return np.vstack([a, b]), np.array([1.0] * n + [0.0] * n)


def test_lift_separates_a_wrong_group_from_a_right_one() -> None:
    vectors, errors = _two_groups()
    bands = error_lift_by_similarity(vectors, errors)
    top = bands[-1]
    assert (top.low, top.high) == (0.95, 1.0)
    assert top.pairs == 2 * 6 * 5  # ordered pairs within each group, never a paragraph with itself
    assert top.error_given_wrong_neighbour == 1.0 and top.error_given_right_neighbour == 0.0
    # The groups are orthogonal: no pair falls in any lower band.
    assert all(b.pairs == 0 and b.error_given_wrong_neighbour is None for b in bands[:-1])


def test_lift_counts_pairs_by_hand() -> None:
    # Cosines: v0·v1 = 0.8, v0·v2 = 0.6, v1·v2 = 0.96 (v0, v1 wrong; v2 right).
    vectors = np.array([[1.0, 0.0], [0.8, 0.6], [0.6, 0.8]])
    bands = error_lift_by_similarity(vectors, [1.0, 1.0, 0.0], edges=(0.5, 0.7, 0.9, 1.0))
    low, mid, high = bands
    assert low.pairs == 2 and mid.pairs == 2 and high.pairs == 2
    # [0.5, 0.7): v0 with neighbour v2 (right, v0 wrong), v2 with neighbour v0 (wrong, v2 right).
    assert (low.error_given_wrong_neighbour, low.error_given_right_neighbour) == (0.0, 1.0)
    # [0.7, 0.9): v0 and v1, both wrong.
    assert (mid.error_given_wrong_neighbour, mid.error_given_right_neighbour) == (1.0, None)
    # [0.9, 1.0]: v1 (wrong) next to v2 (right) and back.
    assert (high.error_given_wrong_neighbour, high.error_given_right_neighbour) == (0.0, 1.0)


def test_lift_and_predictions_do_not_depend_on_the_chunk_size() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((40, 4))
    errors = rng.integers(0, 2, 40).astype(float)
    whole = error_lift_by_similarity(vectors, errors, edges=(-1.0, 0.0, 0.5, 1.0))
    assert error_lift_by_similarity(vectors, errors, edges=(-1.0, 0.0, 0.5, 1.0), chunk=7) == whole
    assert sum(b.pairs for b in whole) == 40 * 39
    assert (leave_one_out_top_shares(vectors, errors, floor=0.2, chunk=5)
            == leave_one_out_top_shares(vectors, errors, floor=0.2))


def test_leave_one_out_finds_the_pocket_of_errors() -> None:
    rng = np.random.default_rng(1)
    pocket = np.array([1.0, 0.0, 0.0, 0.0]) + 0.02 * rng.standard_normal((10, 4))
    spread = rng.standard_normal((90, 4))
    vectors = np.vstack([pocket, spread])
    errors = np.concatenate([np.ones(10), (rng.random(90) < 0.3).astype(float)])
    shares = leave_one_out_top_shares(vectors, errors, shares=(0.1, 1.0), floor=0.9)
    assert shares[1.0] == pytest.approx(errors.mean())
    assert shares[0.1] == 1.0 > 2 * errors.mean()


@pytest.mark.parametrize(("vectors", "errors", "message"), [
    (np.ones((3, 2)), [1.0, 0.0], "one vector per label"),
    (np.ones((1, 2)), [1.0], "at least two"),
    (np.ones((2, 2)), [1.0, 2.0], r"\[0, 1\]"),
])
def test_bad_inputs_are_named(vectors: np.ndarray, errors: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        error_lift_by_similarity(vectors, errors)
    with pytest.raises(ValueError, match=message):
        leave_one_out_top_shares(vectors, errors)


def test_bad_settings_are_named() -> None:
    vectors, errors = _two_groups()
    with pytest.raises(ValueError, match="increasing"):
        error_lift_by_similarity(vectors, errors, edges=(0.9, 0.8))
    with pytest.raises(ValueError, match="floor"):
        leave_one_out_top_shares(vectors, errors, floor=1.0)
    with pytest.raises(ValueError, match="shares"):
        leave_one_out_top_shares(vectors, errors, shares=(0.0,))


def test_labels_from_a_study_show_its_weak_topic_clustered(synthetic_kb: Path, scripts: dict[str, Path],
                                                         tmp_path: Path) -> None:
    store = SeaStore(f"sqlite:///{tmp_path / 'sea.db'}")
    spec = StudySpec(kb=str(synthetic_kb), testee=f"scripted:{scripts['testee']}",
                     generator=f"scripted:{scripts['generator']}", embedder="hashing")
    config = SearchConfig(budget=180, batch_size=6, top_k_pages=5, paragraphs_per_source=3)
    ctx = open_context(spec, config, store, embedder=HashingEmbedder(), vector_dir=tmp_path / "v")
    result = run_study(spec, config, study="structure", context=ctx)
    labels = paragraph_errors(store)
    tested = {r.paragraph_id: r for run in result.runs.values() for r in store.paragraph_results(run.run_id)}
    assert set(labels) == set(tested)
    # The scripted testee is wrong exactly on the weak topic's paragraphs.
    for pid, share in labels.items():
        assert share == (1.0 if "Volcanic matters" in ctx.kb.paragraph(pid).text else 0.0)
    assert 0 < sum(labels.values()) < len(labels)
    ids = sorted(labels)
    vectors = ctx.retriever.paragraph_vectors([ctx.kb.paragraph(i) for i in ids])
    errors = np.array([labels[i] for i in ids])
    bands = error_lift_by_similarity(vectors, errors, edges=(0.3, 1.0))
    assert bands[0].error_given_wrong_neighbour is not None and bands[0].error_given_right_neighbour is not None
    assert bands[0].error_given_wrong_neighbour > bands[0].error_given_right_neighbour
    assert paragraph_errors(store, [result.runs["sea"].run_id]).keys() <= labels.keys()
    with pytest.raises(ConfigurationError, match="no SEA run 'nope'"):
        paragraph_errors(store, ["nope"])
    store.close()


def test_labels_refuse_runs_that_measured_different_things(tmp_path: Path) -> None:
    store = SeaStore(f"sqlite:///{tmp_path / 'mixed.db'}")
    with pytest.raises(ConfigurationError, match="no SEA runs"):
        paragraph_errors(store)
    for study, testee in [("a", "local:smollm2"), ("b", "openai:other")]:
        run = store.create_run(study, "random", {"kb_fingerprint": "k", "testee": testee, "question_cache": "q",
                                                 "answer": "likelihood"})
        store.start_step(run, 0, [("p1", None)], [])
        store.finish_step(run, 0, [{"paragraph_id": "p1", "parent_id": None, "questions": 1, "error_questions": 1,
                                    "error_rate": 1.0, "is_source": True}], pruned=[], calls=3, errors=1,
                          seconds=0.0)
    with pytest.raises(ConfigurationError, match="differ in what they measured"):
        paragraph_errors(store)
    store.close()
