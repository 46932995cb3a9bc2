"""The textual expert: OCR word boxes for text targets and text spans.

Spec: ``ENGINE[?options]`` with ENGINE ``tesseract`` (default) or ``rapidocr``.
Options: ``mode=regions`` (default: read text regions, likely ones first) or
``mode=page`` (one OCR pass over the whole screenshot at its own scale: the plain
approach, kept as a baseline); ``psm`` (tesseract); ``min_score`` (0.6: weaker
text matches are misses); ``early_stop`` (0.9: a match this good in the first
batch of regions ends the search); ``first_batch`` (8 regions: the likeliest
regions are read first, then four times as many, then all of them).

Every box is returned in screen pixels: OCR runs on upscaled crops of the
screenshot, and the screenshot itself may be scaled against the screen
(``observation.info["screen_size"]``); both scales are undone before a target
leaves the expert. A screenshot smaller than the screen is first enlarged to the
screen's size (its text is too small to segment otherwise).
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from steadyhand.core.observation import Observation
from steadyhand.tools.grounding import matching
from steadyhand.tools.grounding.base import (
    POINT_ACTIONS,
    SPAN_ACTIONS,
    BoxTarget,
    GroundingError,
    GroundingRequest,
    GroundingResult,
    SpanTarget,
    register_expert,
)
from steadyhand.tools.grounding.coordinates import ScreenMap, png_size, screen_size
from steadyhand.tools.grounding.ocr import OCREngine, Region, Word, engine, prepare_crop, text_regions
from steadyhand.tools.grounding.specs import reject_unknown, split_spec, take, take_float


@dataclass
class Match:
    """Consecutive OCR words matching a phrase, in screen pixels."""

    words: list[Word]
    score: float
    phrase: matching.Phrase

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def box(self) -> tuple[int, int, int, int]:
        left = min(w.left for w in self.words)
        top = min(w.top for w in self.words)
        right = max(w.right for w in self.words)
        bottom = max(w.bottom for w in self.words)
        return round(left), round(top), max(1, round(right - left)), max(1, round(bottom - top))


def best_match(words: list[Word], phrases: list[matching.Phrase]) -> Match | None:
    """The run of words on one line that best matches one of ``phrases`` (scaled by coverage)."""
    lines: dict[tuple[int, ...], list[Word]] = {}
    for word in words:
        lines.setdefault(word.line, []).append(word)
    best: Match | None = None
    best_key = -1.0
    for phrase in phrases:
        size = max(1, len(phrase.words))
        for line in lines.values():
            line.sort(key=lambda w: w.left)
            for n in range(max(1, size - 1), size + 2):
                for start in range(0, max(0, len(line) - n) + 1):
                    window = line[start:start + n]
                    if not window:
                        continue
                    score = matching.similarity(" ".join(w.text for w in window), phrase.text)
                    key = matching.confidence(score, phrase) + 0.001 * min(w.conf for w in window)
                    if key > best_key:
                        best, best_key = Match(window, score, phrase), key
    return best


def word_count(gray: np.ndarray, region: Region) -> int:
    """Words in a region, estimated from gaps in its ink wider than a quarter of its height."""
    crop = gray[region.top:region.top + region.height, region.left:region.left + region.width]
    if crop.size == 0 or int(crop.max()) - int(crop.min()) < 24:
        return 1
    threshold = (int(crop.max()) + int(crop.min())) / 2
    ink = crop < threshold if float(np.median(crop)) >= threshold else crop >= threshold
    columns = [bool(v) for v in np.count_nonzero(ink, axis=0).tolist()]
    gap, gaps, started = 0, 0, False
    for has_ink in columns:
        if has_ink:
            if started and gap >= max(3, region.height // 4):
                gaps += 1
            started, gap = True, 0
        else:
            gap += 1
    return gaps + 1


@dataclass
class _Page:
    """One screenshot, decoded once, with its regions and what has been read of it."""

    gray: np.ndarray
    map: ScreenMap
    regions: list[Region] | None = None
    read: dict[Region, list[Word]] = field(default_factory=dict)
    page_words: list[Word] | None = None


def _screen_words(words: list[Word], region: Region, scale: float, screen: ScreenMap) -> list[Word]:
    out = []
    for w in words:
        left, top, width, height = screen.box_to_screen(region.left + w.left / scale, region.top + w.top / scale,
                                                        w.width / scale, w.height / scale)
        out.append(Word(w.text, left, top, width, height, w.conf, w.line))
    return out


@register_expert("textual")
class TextualExpert:
    """Finds described text on the screenshot with OCR (see the module docstring for the spec)."""

    name = "textual"
    serves: ClassVar[frozenset[str]] = POINT_ACTIONS | SPAN_ACTIONS

    def __init__(self, spec: str = "tesseract", *, cache_size: int = 8) -> None:
        head, options = split_spec(spec or "tesseract")
        self.spec = spec or "tesseract"
        self.mode = take(options, "mode", "regions")
        if self.mode not in ("regions", "page"):
            raise GroundingError(f"textual expert: mode must be regions or page, not {self.mode!r}")
        self.min_score = take_float(options, "min_score", 0.6)
        self.early_stop = take_float(options, "early_stop", 0.9)
        self.first_batch = max(1, int(take_float(options, "first_batch", 8)))
        engine_options: dict[str, Any] = {}
        if head == "tesseract" and "psm" in options:
            engine_options["psm"] = int(take_float(options, "psm", 11))
        reject_unknown("textual", options)
        self.engine: OCREngine = engine(head or "tesseract", **engine_options)
        self._cache: OrderedDict[str, _Page] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TextualExpert({self.spec!r})"

    def clear_cache(self) -> None:
        """Forget every screenshot read so far."""
        with self._lock:
            self._cache.clear()

    # --- reading ------------------------------------------------------------------------------

    def _page(self, observation: Observation, request: GroundingRequest) -> _Page:
        if observation.screenshot is None:
            raise GroundingError("textual expert: the observation has no screenshot")
        screen = screen_size(observation, request)
        key = hashlib.sha1(observation.screenshot).hexdigest() + f"{screen}"
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        import cv2

        gray = cv2.imdecode(np.frombuffer(observation.screenshot, np.uint8), cv2.IMREAD_GRAYSCALE)
        if gray is None:
            raise GroundingError("textual expert: the screenshot cannot be decoded")
        shot = png_size(observation.screenshot)
        if shot[0] < screen[0] * 0.95:  # a shrunken capture: read it at screen size, where UI text is legible
            gray = cv2.resize(gray, screen, interpolation=cv2.INTER_CUBIC)
            shot = screen
        page = _Page(gray, ScreenMap(shot, screen))
        with self._lock:
            self._cache[key] = page
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return page

    def _regions(self, page: _Page) -> list[Region]:
        if page.regions is None:
            page.regions = text_regions(page.gray, scale=1.0 / page.map.sx)
        return page.regions

    def _read(self, page: _Page, regions: list[Region]) -> list[Word]:
        todo = [r for r in regions if r not in page.read]
        if todo:
            prepared = [prepare_crop(page.gray, r) for r in todo]
            results = self.engine.read_regions([crop for crop, _ in prepared])
            for region, (_, scale), words in zip(todo, prepared, results, strict=True):
                page.read[region] = _screen_words(words, region, scale, page.map)
        out: list[Word] = []
        for index, region in enumerate(regions):
            out += [Word(w.text, w.left, w.top, w.width, w.height, w.conf, (index, *w.line))
                    for w in page.read[region]]
        return out

    def _page_words(self, page: _Page) -> list[Word]:
        if page.page_words is None:
            whole = Region(0, 0, page.gray.shape[1], page.gray.shape[0])
            page.page_words = _screen_words(self.engine.read_page(page.gray), whole, 1.0, page.map)
        return page.page_words

    def words(self, observation: Observation, request: GroundingRequest | None = None) -> list[Word]:
        """Every word on the screenshot, in screen pixels (cached per screenshot)."""
        page = self._page(observation, request or GroundingRequest(action="click"))
        return self._page_words(page) if self.mode == "page" else self._read(page, self._regions(page))

    # --- grounding ----------------------------------------------------------------------------

    def _plausible(self, page: _Page, phrase: matching.Phrase) -> list[Region]:
        """Regions whose shape fits the phrase (length for its height, number of words), likeliest first."""
        chars = max(1, len(phrase.text.strip()))
        words = max(1, len(phrase.text.split()))
        scored = []
        for region in self._regions(page):
            ratio = (region.width * page.map.sx) / (chars * max(1.0, region.height * page.map.sy))
            if 0.2 <= ratio <= 1.3:
                misfit = abs(math.log(ratio / 0.55)) + 0.35 * abs(word_count(page.gray, region) - words)
                scored.append((misfit, region))
        scored.sort(key=lambda item: item[0])
        return [region for _, region in scored]

    def _find(self, page: _Page, phrases: list[matching.Phrase], *, targeted: bool) -> tuple[Match | None, int]:
        """The best match, reading likely regions in growing batches and stopping at a near-exact one."""
        if self.mode == "page":
            return best_match(self._page_words(page), phrases), 0
        regions = self._regions(page)
        if targeted:
            likely = self._plausible(page, phrases[0])
            read: list[Region] = []
            for size in (self.first_batch, self.first_batch * 4):
                read = likely[:size]
                found = best_match(self._read(page, read), phrases)
                if found and found.score >= self.early_stop and found.phrase is phrases[0]:
                    return found, len(read)
                if size >= len(likely):
                    break
        return best_match(self._read(page, regions), phrases), len(regions)

    def ground(self, request: GroundingRequest, observation: Observation) -> GroundingResult:
        """A box around the described text (or a span between two phrases), in screen pixels.

        Raises:
            GroundingError: no screenshot, an empty description, or no text matching well enough.
        """
        page = self._page(observation, request)
        if request.action in SPAN_ACTIONS:
            return self._span(page, request)
        phrases = matching.phrases(request.description)
        if not phrases:
            raise GroundingError("textual expert: the description is empty")
        found, read = self._find(page, phrases, targeted=True)
        if found is None or found.score < self.min_score:
            seen = f"; best was {found.text!r} ({found.score:.2f})" if found else ""
            raise GroundingError(f"textual expert: no text on screen matches {phrases[0].text!r}{seen}")
        left, top, width, height = found.box
        return GroundingResult(
            target=BoxTarget(left=left, top=top, width=width, height=height),
            confidence=matching.confidence(found.score, found.phrase), expert=self.name,
            details={"text": found.text, "phrase": found.phrase.text, "score": round(found.score, 3),
                     "engine": self.engine.name, "mode": self.mode, "regions_read": read})

    def _span(self, page: _Page, request: GroundingRequest) -> GroundingResult:
        if not request.text_span:
            raise GroundingError("textual expert: highlight_text_span needs text_span=(start, end)")
        start_text, end_text = request.text_span
        start, _ = self._find(page, [matching.Phrase(start_text, 1.0, True)], targeted=False)
        if start is None or start.score < self.min_score:
            raise GroundingError(f"textual expert: the starting phrase {start_text!r} is not on screen")
        words = self.words_cached(page)
        first = start.words[0]
        after = [w for w in words if w.top > first.top + first.height / 2
                 or (abs(w.top - first.top) <= first.height / 2 and w.left >= first.left)]
        end = best_match(after, [matching.Phrase(end_text, 1.0, True)])
        if end is None or end.score < self.min_score:
            raise GroundingError(f"textual expert: the ending phrase {end_text!r} is not on screen after "
                                 f"{start_text!r}")
        last = end.words[-1]
        target = SpanTarget(start=(round(first.left), round(first.top + first.height / 2)),
                            end=(round(last.right), round(last.top + last.height / 2)))
        score = min(start.score, end.score)
        return GroundingResult(target=target, confidence=score, expert=self.name,
                               details={"start_text": start.text, "end_text": end.text, "engine": self.engine.name})

    def words_cached(self, page: _Page) -> list[Word]:
        """Every word of an already-read page (reads the rest if needed)."""
        return self._page_words(page) if self.mode == "page" else self._read(page, self._regions(page))
