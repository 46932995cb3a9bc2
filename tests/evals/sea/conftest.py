"""Fixtures for SEA: a small synthetic knowledge base with one weak topic, and scripted models.

The scripted generator writes the same kind of question for every paragraph, but on
paragraphs of the weak topic (marked "volcanic") the right option is one the scripted
testee never picks. So the testee is wrong exactly on the weak topic, and a search that
follows its errors must find more of them than random sampling. The scripts stand in for
real models only to make the search mechanics exact; the real models have their own tests.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml

from steadyhand.evals.sea import Page, write_kb

TOPICS = {
    "volcano": "volcanic lava magma crater eruption basalt ash caldera pyroclastic vent",
    "music": "melody harmony rhythm chord tempo orchestra violin sonata cadence timbre",
    "cooking": "recipe oven flour butter simmer saucepan braise garlic pastry whisk",
    "astronomy": "galaxy nebula orbit telescope comet quasar planet stellar redshift eclipse",
    "sailing": "keel mast rudder harbour tide anchor hull starboard jib mooring",
    "botany": "petal pollen stem chlorophyll root seedling photosynthesis leaf blossom fern",
    "chess": "bishop rook gambit castling pawn checkmate opening endgame knight queen",
    "finance": "bond equity dividend ledger interest audit ledger credit asset liability",
}


def _page(topic: str, i: int, rng: random.Random) -> Page:
    words = TOPICS[topic].split()
    pick = lambda k: " ".join(rng.sample(words, k))  # noqa: E731
    name = f"{topic}-{i:03d}"
    marker = " Volcanic matters." if topic == "volcano" else ""
    body = (f"## Overview\n{name} is a study of {pick(3)} and {pick(2)}.{marker} It covers the {words[i % 10]} "
            f"of the {words[(i + 3) % 10]} in detail.\n\n## Details\nExperts compare {pick(3)} with "
            f"{words[(i + 5) % 10]} and {words[(i + 7) % 10]}.{marker} The field names {pick(2)} as its core.\n")
    return Page(id=f"t:{name}", name=name, abstract=f"A page about {topic}: {pick(4)}",
                url=f"https://example.org/{name}", wikitext=body)


@pytest.fixture(scope="session")
def synthetic_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """240 pages in 8 topics; 'volcano' (30 pages, 12.5%) is the testee's weak topic."""
    rng = random.Random(7)
    pages = [_page(topic, i, rng) for topic in TOPICS for i in range(30)]
    rng.shuffle(pages)
    path = tmp_path_factory.mktemp("kb") / "kb.jsonl"
    write_kb(pages, path)
    return path


def _question(answer_first: bool) -> str:
    options = ["Lima", "Paris", "Oslo", "Bern"] if answer_first else ["Paris", "Rome", "Oslo", "Bern"]
    return json.dumps({"questions": [
        {"question": "Which city is named in this record?", "options": options, "answer": "A",
         "rephrasings": ["Name the city of this record.", "Which of these cities does the record name?"]},
        {"question": "Which capital does the record mention?", "options": options, "answer": "A",
         "rephrasings": ["What capital is mentioned?", "The record mentions which capital?"]}]})


@pytest.fixture(scope="session")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Scripted generator and testee: the testee always says Paris, which is wrong only on volcanic pages."""
    folder = tmp_path_factory.mktemp("scripts")
    generator = {"rules": [{"when": "Volcanic matters", "reply": _question(True)}], "default": _question(False)}
    testee = {"default": "I think it is Paris."}
    paths = {"generator": folder / "generator.yaml", "testee": folder / "testee.yaml"}
    paths["generator"].write_text(yaml.safe_dump(generator))
    paths["testee"].write_text(yaml.safe_dump(testee))
    return paths
