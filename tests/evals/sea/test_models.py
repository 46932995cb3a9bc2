"""SEA with the real models: all-MiniLM-L6-v2 embeddings and SmolLM2 as the testee."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from steadyhand.core.errors import ConfigurationError
from steadyhand.evals.sea import Question, Testee, extract_choice, load_kb
from steadyhand.evals.sea.debian import build_debian_kb
from steadyhand.evals.sea.embed import MiniLMEmbedder
from steadyhand.evals.sea.retrieval import Retriever
from steadyhand.evals.sea.testee import scored_texts
from steadyhand.models import load, usage

pytestmark = pytest.mark.model


def test_minilm_embeds_offline_and_ranks_by_meaning() -> None:
    embedder = MiniLMEmbedder()
    v = embedder.embed(["A library for numerical arrays in Python", "Fast array facility for the Python language",
                        "A real-time strategy game of ancient warfare"])
    assert v.shape == (3, 384) and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > 0.5 > v[0] @ v[2]
    assert "all-MiniLM-L6-v2" in embedder.name


def test_related_pages_of_a_debian_slice_share_their_topic(tmp_path: Path) -> None:
    kb = load_kb(build_debian_kb(tmp_path / "kb.jsonl", max_pages=400, min_pages=None))
    retriever = Retriever(kb, MiniLMEmbedder(), cache_dir=tmp_path / "vectors")
    perl = [p for p in kb.pages if p.name.endswith("-perl")]
    assert len(perl) >= 5
    nearest = retriever.nearest_pages(retriever.page_vectors[kb.page_position(perl[0].id)], 5, exclude=perl[0].id)
    assert sum(page.endswith("-perl") for page in nearest) >= 3, nearest


@pytest.mark.slow
def test_smollm2_testee_answers_in_batches_and_every_call_is_counted() -> None:
    testee = Testee("local:smollm2", batch_size=3, max_new_tokens=8)
    q = Question(id="p#0/q0", paragraph_id="p#0", question="Which language is python3-numpy for?",
                 options=["Python", "Perl", "Ruby", "Lua"], answer=0, rephrasings=["python3-numpy is for?"],
                 generator="test")
    prompts = [testee.prompt(text, options) for text, options, _ in q.forms()] * 2
    replies = testee.ask(prompts)
    assert len(replies) == 4
    assert all(r.input_tokens > 20 and 0 < r.output_tokens <= 8 for r in replies)
    assert [r.text for r in replies[:2]] == [r.text for r in replies[2:]]  # greedy: same prompt, same reply
    calls = usage(testee.model).calls
    assert len(calls) == 4 and calls[0].input_tokens == replies[0].input_tokens
    for (_, options, _), reply in zip(q.forms() * 2, replies, strict=True):
        extract_choice(reply.text, options)  # parses or returns None, never raises


@pytest.mark.slow
def test_smollm2_likelihood_testee_picks_the_likely_option_in_every_rotation() -> None:
    testee = Testee("local:smollm2", batch_size=2, answer="likelihood")
    q = Question(id="p#0/q0", paragraph_id="p#0", question="The days of the week: Monday, Tuesday, ____, Thursday.",
                 options=["fonts", "Wednesday", "kernel", "Perl"], answer=1,
                 rephrasings=["Which day comes between Tuesday and Thursday?", "In order: Monday, Tuesday, "
                              "____, Thursday, Friday."], generator="test")
    before = len(usage(testee.model).calls)
    forms = q.forms()
    replies = testee.answer([(text, options) for text, options, _ in forms])
    assert len(replies) == 3
    for (_, options, answer), reply in zip(forms, replies, strict=True):
        assert reply.text.startswith("\\box{") and "log-likelihoods" in reply.text
        assert extract_choice(reply.text, options) == answer, reply.text  # the option's place moved; the pick did not
        assert reply.output_tokens == 0 and reply.input_tokens > 4 * 8  # four scored texts per call
    calls = usage(testee.model).calls[before:]
    assert [c.input_tokens for c in calls] == [r.input_tokens for r in replies]


@pytest.mark.slow
def test_packed_scores_equal_scoring_each_text_alone() -> None:
    import torch

    from steadyhand.evals.sea.testee import _packed_scores
    from steadyhand.models.transformers_chat import _load

    tokenizer, model = _load(load("local:smollm2").model_path)  # type: ignore[attr-defined]
    groups_text = [
        scored_texts("The capital of France is ____, on the Seine.", ["Paris", "Lyon", "a big city", "Nice"]),
        scored_texts("Which language is CPython written in?", ["C", "C++", "Rust", "a mix of C and Python"]),
        ["the cat", "the cat sat", "the cat ran", "the cat is"],  # a text that is a prefix of the others
        ["Paris is big", "London is big", "a dog", "Rome is old"],  # texts that differ from the first token
    ]
    groups = [[tokenizer(t)["input_ids"] for t in texts] for texts in groups_text]

    def alone(ids: list[int], start: int) -> float:
        with torch.inference_mode():
            logits = model(input_ids=torch.tensor([ids])).logits[0]
        logp = torch.log_softmax(logits[start - 1:len(ids) - 1].float(), dim=-1)
        return float(logp.gather(-1, torch.tensor(ids[start:])[:, None]).sum())

    with torch.inference_mode():
        packed = _packed_scores(model, groups, tokenizer.pad_token_id or 0)
    for seqs, scores in zip(groups, packed, strict=True):
        shortest = min(len(s) for s in seqs)
        start = next((i for i in range(shortest) if len({s[i] for s in seqs}) > 1), shortest)
        start = max(min(start, shortest - 1), 1)  # at least one token each, never the first
        assert scores == pytest.approx([alone(s, start) for s in seqs], abs=1e-3)
        assert all(score < 0 for score in scores)  # every text scores at least one token


def test_likelihood_answering_needs_an_in_process_model() -> None:
    with pytest.raises(ConfigurationError, match="likelihood"):
        Testee("openai:gpt-4o-mini", answer="likelihood")
    with pytest.raises(ConfigurationError, match="answer mode"):
        Testee("local:smollm2", answer="vibes")  # type: ignore[arg-type]
