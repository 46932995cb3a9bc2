"""The candidates expert: a deterministic scripted text model picks among tree candidates."""

from __future__ import annotations

from pathlib import Path

import pytest

from steadyhand.core.observation import Observation
from steadyhand.tools.grounding import GroundingError, GroundingRequest, Router

from .trees import EDITOR


def script(tmp_path: Path, reply: str) -> str:
    path = tmp_path / "picker.yaml"
    path.write_text(f"rules:\n  - when: 'Which of these screen elements'\n    reply: {reply!r}\n")
    return f"scripted:{path}?ocr=none&top_k=3"


def test_the_model_picks_a_listed_candidate(tmp_path: Path) -> None:
    router = Router.from_specs({"candidates": script(tmp_path, "The answer is 2.")})
    routed = router.ground(GroundingRequest(action="click", description='the "Save As" button'),
                           Observation(accessibility_tree=EDITOR))
    result = routed.require()
    listed = result.details["listed"]
    assert len(listed) == 3 and listed[0] == "[push-button] Save As"
    assert result.details["choice"] == 2 and result.details["text"] == listed[1].split("] ", 1)[1]
    assert routed.decisions[0]["expert"] == "candidates"


def test_a_reply_without_a_listed_number_is_a_miss_not_a_guess(tmp_path: Path) -> None:
    from steadyhand.tools.grounding.experts import CandidatesExpert

    for reply in ("I think it is the blue one.", "7"):
        expert = CandidatesExpert(script(tmp_path, reply))
        with pytest.raises(GroundingError, match="names no candidate 1-3"):
            expert.ground(GroundingRequest(action="click", description="Save"), Observation(accessibility_tree=EDITOR))
    with pytest.raises(GroundingError, match="nothing with text on screen"):
        CandidatesExpert(script(tmp_path, "1")).ground(GroundingRequest(action="click", description="Save"),
                                                       Observation())
