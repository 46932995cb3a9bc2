from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from steadyhand.core.errors import ModelOutputError
from steadyhand.evals.sea import ClozeGenerator, ModelGenerator, Question, load_kb
from steadyhand.evals.sea.embed import HashingEmbedder
from steadyhand.evals.sea.questions import template_words
from steadyhand.evals.sea.retrieval import Retriever
from steadyhand.models import load, usage


@pytest.fixture(scope="module")
def retriever(synthetic_kb: Path, tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    return Retriever(load_kb(synthetic_kb), HashingEmbedder(), cache_dir=tmp_path_factory.mktemp("vectors"))


def test_cloze_questions_blank_a_word_and_draw_distractors_from_related_paragraphs(retriever: Retriever) -> None:
    kb = retriever.kb
    generator = ClozeGenerator(retriever.related, rephrasings=2)
    made = 0
    for paragraph in list(kb.iter_paragraphs())[:40]:
        questions = generator.generate(paragraph, 2)
        assert questions == generator.generate(paragraph, 2)  # deterministic
        related_words = " ".join(p.text for p in retriever.related(paragraph, generator.neighbours)).lower()
        for q in questions:
            made += 1
            answer = q.options[q.answer]
            assert len({o.lower() for o in q.options}) == 4
            assert "____" in q.question and answer in paragraph.text
            assert q.question.replace("____", answer).count(answer) >= 1
            for i, option in enumerate(q.options):
                if i != q.answer:
                    assert option.lower() not in paragraph.text.lower()
                    assert option.lower() in related_words
            assert len(q.rephrasings) == 2 and len(q.forms()) == 3
        assert len({q.question for q in questions}) == len(questions)
    assert made >= 40


def test_forms_rotate_the_options() -> None:
    q = Question(id="p#0/q0", paragraph_id="p#0", question="Q?", options=["w", "x", "y", "z"], answer=1,
                 rephrasings=["Q again?", "Q once more?"], generator="g")
    forms = q.forms()
    assert [f[1][f[2]] for f in forms] == ["x", "x", "x"]
    assert [f[2] for f in forms] == [1, 0, 3]  # the right letter moves: B, A, D
    assert forms[1][0] == "Q again?"


def _write(path: Path, replies: list[str]) -> str:
    path.write_text(yaml.safe_dump({"replies": replies}))
    return f"scripted:{path}"


GOOD = json.dumps({"questions": [{"question": "What does the text call the animal?",
                                  "options": ["cat", "dog", "emu", "yak"], "answer": "C",
                                  "rephrasings": ["Which animal is named?", "Name the animal."]}]})


def test_model_generator_validates_and_retries(retriever: Retriever, tmp_path: Path) -> None:
    paragraph = next(retriever.kb.iter_paragraphs())
    spec = _write(tmp_path / "g.yaml", ["Sure! here you go", '{"questions": [{"question": "Which?", '
                                        '"options": ["a", "a", "b", "c"], "answer": "A"}]}',
                                        f"```json\n{GOOD}\n```"])
    model = load(spec)
    generator = ModelGenerator(model, spec, rephrasings=2, retries=2)
    [q] = generator.generate(paragraph, 1)
    assert q.options[q.answer] == "emu" and len(q.forms()) == 3
    assert len(usage(model).calls) == 3  # two bad replies, each answered with the validation error


def test_model_generator_gives_up_with_a_clear_error(retriever: Retriever, tmp_path: Path) -> None:
    paragraph = next(retriever.kb.iter_paragraphs())
    spec = _write(tmp_path / "g.yaml", ['{"questions": []}'] * 3)
    with pytest.raises(ModelOutputError, match=r"no valid JSON .* after 3 tries: questions"):
        ModelGenerator(load(spec), spec, retries=2).generate(paragraph, 1)


def test_template_words_are_the_knowledge_base_boilerplate(retriever: Retriever) -> None:
    words = template_words(retriever.kb, pages=100, share=0.3)
    assert {"study", "experts", "field"} <= words  # in every synthetic page
    assert not {"volcanic", "violin", "galaxy"} & words
    generator = ClozeGenerator(retriever.related, boilerplate=words)
    for paragraph in list(retriever.kb.iter_paragraphs())[:20]:
        for q in generator.generate(paragraph, 2):
            assert q.options[q.answer].lower() not in words
