"""The candidates expert: a CPU stand-in for a grounding model.

No vision-language weights exist on a CPU-only machine, but a small text model
can still choose: this expert lists what the screen shows — OCR phrases (one per
text region) and named accessibility elements — ranks them by fuzzy similarity
to the description, shows the top ``top_k`` to a text model as a numbered list,
and returns the box of the one it names.

Spec: a model spec (``local:smollm2``, ``scripted:replies.yaml``, ``openai:...``)
with options ``top_k`` (8), ``ocr`` (``tesseract``; ``none`` for tree only).
A reply without a valid number is a miss (:class:`GroundingError`), never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from steadyhand.core.observation import Observation
from steadyhand.tools.grounding import matching
from steadyhand.tools.grounding.base import (
    POINT_ACTIONS,
    BoxTarget,
    GroundingError,
    GroundingRequest,
    GroundingResult,
    register_expert,
)
from steadyhand.tools.grounding.coordinates import screen_size
from steadyhand.tools.grounding.experts.accessibility import parse_tree
from steadyhand.tools.grounding.experts.prompts import render
from steadyhand.tools.grounding.specs import join_spec, split_spec, take, take_float


@dataclass(frozen=True)
class Candidate:
    """Something on screen a model may pick: its text, kind, source and screen box."""

    text: str
    kind: str
    source: str
    box: tuple[int, int, int, int]

    def line(self) -> str:
        """How the candidate is listed to the model."""
        return f"[{self.kind}] {self.text}"


@register_expert("candidates")
class CandidatesExpert:
    """A text model picks among OCR and accessibility candidates (see the module docstring)."""

    name = "candidates"
    serves: ClassVar[frozenset[str]] = POINT_ACTIONS

    def __init__(self, spec: str = "local:smollm2", *, model: Any = None) -> None:
        self.spec = spec or "local:smollm2"
        head, options = split_spec(self.spec)
        self.top_k = max(2, int(take_float(options, "top_k", 8)))
        ocr = take(options, "ocr", "tesseract")
        self.model_spec = join_spec(head, options)
        self._textual = None
        if ocr != "none":
            from steadyhand.tools.grounding.experts.textual import TextualExpert

            self._textual = TextualExpert(ocr)
        if model is None:
            from steadyhand import models

            model = models.load(self.model_spec)
        self.model = model

    def candidates(self, request: GroundingRequest, observation: Observation) -> list[Candidate]:
        """Everything on screen with text: OCR phrases (per text line) and named tree elements."""
        found: list[Candidate] = []
        if observation.accessibility_tree:
            screen = screen_size(observation, request) if observation.screenshot else None
            for element in parse_tree(observation.accessibility_tree, screen=screen):
                if element.label and len(element.label) <= 80:
                    found.append(Candidate(element.label, element.role, "accessibility",
                                           (element.left, element.top, element.width, element.height)))
        if self._textual is not None and observation.screenshot is not None:
            lines: dict[tuple[int, ...], list[Any]] = {}
            for word in self._textual.words(observation, request):
                lines.setdefault(word.line[:1], []).append(word)
            for words in lines.values():
                words.sort(key=lambda w: w.left)
                left, top = min(w.left for w in words), min(w.top for w in words)
                right, bottom = max(w.right for w in words), max(w.bottom for w in words)
                text = " ".join(w.text for w in words)
                if matching.normalize(text):
                    found.append(Candidate(text, "text", "ocr", (round(left), round(top), max(1, round(right - left)),
                                                                  max(1, round(bottom - top)))))
        return found

    def ground(self, request: GroundingRequest, observation: Observation) -> GroundingResult:
        """The candidate the model names, as a box in screen pixels.

        Raises:
            GroundingError: nothing on screen to choose from, the model failed, or
                its reply names no listed candidate.
        """
        phrases = matching.phrases(request.description)
        everything = self.candidates(request, observation)
        if not everything:
            raise GroundingError("candidates expert: nothing with text on screen (no tree, no OCR words)")

        def rank(candidate: Candidate) -> float:
            return max((matching.confidence(matching.similarity(candidate.text, p.text), p) for p in phrases),
                       default=0.0)

        shown = sorted(everything, key=rank, reverse=True)[:self.top_k]
        prompt = render("candidates", description=request.description, candidates=[c.line() for c in shown])
        try:
            reply = self.model.invoke(prompt)
        except Exception as exc:
            raise GroundingError(f"candidates expert: the model call failed: {type(exc).__name__}: {exc}") from exc
        text = reply.content if isinstance(reply.content, str) else str(reply.content)
        numbers = [int(n) for n in re.findall(r"\b(\d{1,3})\b", text)]
        choice = next((n for n in numbers if 1 <= n <= len(shown)), None)
        if choice is None:
            raise GroundingError(f"candidates expert: the model's reply names no candidate 1-{len(shown)}: "
                                 f"{text[:200]!r}")
        picked = shown[choice - 1]
        left, top, width, height = picked.box
        return GroundingResult(target=BoxTarget(left=left, top=top, width=width, height=height),
                               confidence=round(0.9 * rank(picked), 4), expert=self.name,
                               details={"choice": choice, "text": picked.text, "source": picked.source,
                                        "listed": [c.line() for c in shown], "reply": text[:200]})
