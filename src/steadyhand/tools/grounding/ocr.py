"""OCR engines and text-region proposals for the textual grounding expert.

Two engines read words with boxes:

* :class:`TesseractEngine` — tesseract through pytesseract, ``--psm 11`` (sparse
  text finds more UI words) and ``OMP_THREAD_LIMIT=1`` (tesseract's OpenMP threads
  make it 2.5-4x slower on small shared machines);
* :class:`RapidOCREngine` — rapidocr with onnxruntime (its models ship in the wheel).

Reading a whole 1280x720 screen at the scale UI text needs is slow, so the textual
expert reads *regions*: :func:`text_regions` finds word-and-phrase-sized blobs of
ink with cheap morphology (grid and border lines removed first), and an engine's
:meth:`~OCREngine.read_regions` reads a batch of them at once, each crop upscaled
until its text is about :data:`TARGET_HEIGHT` pixels tall and made dark-on-light.
Every box an engine returns is in the pixels of the image it was given; callers
map them on (see :class:`~steadyhand.tools.grounding.coordinates.ScreenMap`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from steadyhand.core.errors import ConfigurationError

#: Text height (pixels) crops are scaled to before OCR: tesseract reads 20-40 px text best.
TARGET_HEIGHT = 30
_PAD = 12


@dataclass(frozen=True)
class Word:
    """One recognised word: its text, box (image pixels), confidence (0-1) and line key."""

    text: str
    left: float
    top: float
    width: float
    height: float
    conf: float
    line: tuple[int, ...] = ()

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height


def as_lines(words: Sequence[Word]) -> str:
    """The words as text: one OCR line per line (words left to right), lines top to bottom.

    Words without a line key are grouped by their top edge.
    """
    lines: dict[tuple[int, ...], list[Word]] = {}
    for word in words:
        lines.setdefault(word.line or (int(word.top),), []).append(word)
    ordered = sorted(lines.values(), key=lambda ws: (min(w.top for w in ws), min(w.left for w in ws)))
    return "\n".join(" ".join(w.text for w in sorted(ws, key=lambda w: w.left)) for ws in ordered)


@dataclass(frozen=True)
class Region:
    """A text-like blob, in the pixels of the image it was found in."""

    left: int
    top: int
    width: int
    height: int


class OCREngine(Protocol):
    """Reads words with boxes.

    ``read_page`` reads a whole image; ``read_regions`` reads each crop of a list
    and returns, per crop, its words in that crop's pixels. Both raise
    :class:`ConfigurationError` when the engine is not installed.
    """

    name: str

    def read_page(self, image: np.ndarray) -> list[Word]: ...

    def read_regions(self, crops: list[np.ndarray]) -> list[list[Word]]: ...


# --- region proposals -------------------------------------------------------------------------


def _cv2() -> Any:
    try:
        import cv2
    except ImportError as exc:  # opencv comes with rapidocr-onnxruntime
        raise ConfigurationError("the textual expert needs opencv: pip install 'steadyhand[grounding]'") from exc
    return cv2


def _lines(ink: np.ndarray, k: float) -> np.ndarray:
    """Long thin runs of ink: grid lines and borders, not the strokes inside bold text.

    A pixel is on a horizontal line when no ink lies 3 pixels above and below it
    (ink of vertical lines aside, so crossings do not cut a line), and the run of
    such pixels is at least 40 screen pixels long; vertical lines alike, 22 long.
    """
    cv2 = _cv2()
    h_kernel = np.ones((1, max(8, round(40 * k))), np.uint8)
    v_kernel = np.ones((max(8, round(22 * k)), 1), np.uint8)
    h_long = cv2.morphologyEx(ink, cv2.MORPH_OPEN, h_kernel)
    v_long = cv2.morphologyEx(ink, cv2.MORPH_OPEN, v_kernel)
    others_v = ink & (1 - v_long)
    others_h = ink & (1 - h_long)
    above_below = np.zeros_like(ink)
    above_below[3:-3, :] = others_v[:-6, :] | others_v[6:, :]
    left_right = np.zeros_like(ink)
    left_right[:, 3:-3] = others_h[:, :-6] | others_h[:, 6:]
    lines_h = cv2.morphologyEx(ink & (1 - above_below), cv2.MORPH_OPEN, h_kernel)
    lines_v = cv2.morphologyEx(ink & (1 - left_right), cv2.MORPH_OPEN, v_kernel)
    lines: np.ndarray = lines_h | lines_v
    return lines


def text_regions(gray: np.ndarray, *, scale: float = 1.0) -> list[Region]:
    """Word- and label-sized blobs of ink in a grayscale screen image.

    ``scale`` is the image's pixels per screen pixel (kernel sizes follow it). Long
    horizontal and vertical lines (grid lines, borders, underlines) are removed,
    characters are joined into words and words closer than a space into phrases;
    labels farther apart (menu titles, toolbar captions) stay separate.
    """
    cv2 = _cv2()
    k = max(scale, 0.25)
    grad = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    ink = (grad > 60).astype(np.uint8)
    ink &= 1 - _lines(ink, k)
    joined = cv2.dilate(ink, np.ones((max(1, round(2 * k)), max(3, round(7 * k))), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    found = []
    height, width = gray.shape[:2]
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        if h < 5 * k or h > 64 * k or w < 4 * k or area < 12 * k * k:
            continue
        if w > 8 * h and h < 8 * k:  # a thin stripe, not text
            continue
        pad = max(1, round(2 * k))
        x0, y0 = max(0, x - pad), max(0, y - pad)
        x1, y1 = min(width, x + w + pad), min(height, y + h + pad)
        found.append(Region(x0, y0, x1 - x0, y1 - y0))
    return _join_words(found)


def _join_words(regions: list[Region]) -> list[Region]:
    """Join regions on one row whose gap is under a word space of their size (large text's words).

    The dilation joins characters and words of UI-sized text; a heading's words lie
    farther apart in pixels but still closer than ~0.45 of the region height, while
    separate labels (menu titles, buttons) keep wider gaps.
    """
    rows: list[list[int]] = []  # [left, top, right, bottom]
    for r in sorted(regions, key=lambda r: (r.left, r.top)):
        right, bottom = r.left + r.width, r.top + r.height
        for row in rows:
            overlap = min(bottom, row[3]) - max(r.top, row[1])
            low = min(r.height, row[3] - row[1])
            high = max(r.height, row[3] - row[1])
            if overlap >= 0.6 * low and high <= 1.6 * low and -2 <= r.left - row[2] <= 0.45 * low:
                row[:] = [min(row[0], r.left), min(row[1], r.top), max(row[2], right), max(row[3], bottom)]
                break
        else:
            rows.append([r.left, r.top, right, bottom])
    joined = [Region(a, b, c - a, d - b) for a, b, c, d in rows]
    joined.sort(key=lambda r: (r.top, r.left))
    return joined


def prepare_crop(gray: np.ndarray, region: Region) -> tuple[np.ndarray, float]:
    """A region cut out, upscaled, binarised on its own (Otsu) and made dark text on white.

    Each crop gets its own threshold: tesseract's single threshold over a batch of
    crops from different backgrounds (title bars, coloured banners, white pages)
    loses the low-contrast ones. Returns the crop and its scale (crop pixels per
    source pixel).
    """
    cv2 = _cv2()
    crop = gray[region.top:region.top + region.height, region.left:region.left + region.width]
    scale = min(4.0, max(1.0, TARGET_HEIGHT / max(region.height - 2, 1)))
    if scale > 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    if int(crop.max()) - int(crop.min()) < 24:
        return np.full_like(crop, 255), scale
    _, binary = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if float(binary.mean()) < 127.5:  # text is the minority colour: make the ground white
        binary = 255 - binary
    return binary, scale


def _mosaic(crops: list[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """Crops stacked top to bottom on white with gaps; returns the image and each crop's top."""
    width = max(c.shape[1] for c in crops) + 2 * _PAD
    height = sum(c.shape[0] for c in crops) + _PAD * (len(crops) + 1)
    canvas = np.full((height, width), 255, np.uint8)
    tops, y = [], _PAD
    for crop in crops:
        canvas[y:y + crop.shape[0], _PAD:_PAD + crop.shape[1]] = crop
        tops.append(y)
        y += crop.shape[0] + _PAD
    return canvas, tops


# --- tesseract -----------------------------------------------------------------------------------


class TesseractEngine:
    """Tesseract through pytesseract.

    Args:
        psm: page segmentation mode (11: sparse text).
        lang: tesseract language(s).
        invert: let tesseract also try inverted text (slower; crops are already normalised).
    """

    name = "tesseract"

    def __init__(self, *, psm: int = 11, lang: str = "eng", invert: bool = False) -> None:
        try:
            import pytesseract
        except ImportError as exc:
            raise ConfigurationError("the tesseract engine needs pytesseract: "
                                     "pip install 'steadyhand[grounding]'") from exc
        self._pt = pytesseract
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # tesseract's threads only slow it down here
        self.lang = lang
        self.config = f"--psm {int(psm)}" + ("" if invert else " -c tessedit_do_invert=0")
        try:
            pytesseract.get_tesseract_version()
        except Exception as exc:
            raise ConfigurationError("the tesseract program is missing (apt install tesseract-ocr)") from exc

    def _data(self, image: np.ndarray) -> dict[str, list[Any]]:
        data: dict[str, list[Any]] = self._pt.image_to_data(image, lang=self.lang, config=self.config,
                                                            output_type=self._pt.Output.DICT)
        return data

    def read_page(self, image: np.ndarray) -> list[Word]:
        data = self._data(image)
        words = []
        for i, text in enumerate(data["text"]):
            text = str(text).strip()
            conf = float(data["conf"][i])
            if not text or conf < 0:
                continue
            words.append(Word(text, float(data["left"][i]), float(data["top"][i]), float(data["width"][i]),
                              float(data["height"][i]), conf / 100.0,
                              (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))))
        return words

    def read_regions(self, crops: list[np.ndarray]) -> list[list[Word]]:
        if not crops:
            return []
        canvas, tops = _mosaic(crops)
        per_crop: list[list[Word]] = [[] for _ in crops]
        bottoms = [top + crop.shape[0] for top, crop in zip(tops, crops, strict=True)]
        for word in self.read_page(canvas):
            cy = word.top + word.height / 2
            index = int(np.searchsorted(np.asarray(bottoms), cy))
            if index >= len(crops) or cy < tops[index] - _PAD / 2:
                continue
            per_crop[index].append(Word(word.text, word.left - _PAD, word.top - tops[index], word.width,
                                        word.height, word.conf, (index, *word.line)))
        return per_crop


# --- rapidocr ------------------------------------------------------------------------------------

_RAPID_LOCK = threading.Lock()
_RAPID: Any = None


def _rapid() -> Any:
    global _RAPID
    with _RAPID_LOCK:
        if _RAPID is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:
                raise ConfigurationError("the rapidocr engine needs rapidocr-onnxruntime: "
                                         "pip install 'steadyhand[grounding]'") from exc
            _RAPID = RapidOCR()
        return _RAPID


def split_line(text: str, left: float, top: float, width: float, height: float, conf: float,
               line: tuple[int, ...]) -> list[Word]:
    """Word boxes for a recognised line, each word's share of the width by its characters."""
    parts = text.split()
    if not parts:
        return []
    total = len(text) or 1
    words, offset = [], 0
    for part in parts:
        start = text.index(part, offset)
        offset = start + len(part)
        words.append(Word(part, left + width * start / total, top, width * len(part) / total, height, conf, line))
    return words


class RapidOCREngine:
    """rapidocr (PP-OCR models on onnxruntime); line results split into word boxes."""

    name = "rapidocr"

    def __init__(self) -> None:
        _rapid()

    def read_page(self, image: np.ndarray) -> list[Word]:
        rgb = np.stack([image] * 3, axis=-1) if image.ndim == 2 else image
        result, _ = _rapid()(rgb)
        words: list[Word] = []
        for index, (points, text, score) in enumerate(result or []):
            xs = [p[0] for p in points]
            ys = [p[1] for p in points]
            words += split_line(str(text), min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys), float(score),
                                (index,))
        return words

    def read_regions(self, crops: list[np.ndarray]) -> list[list[Word]]:
        engine = _rapid()
        images = [np.stack([c] * 3, axis=-1) if c.ndim == 2 else c for c in crops]
        recognizer = getattr(engine, "text_rec", None)
        if recognizer is not None:
            results, _ = recognizer(images)
        else:  # pragma: no cover - other rapidocr versions
            results = [(engine(img, use_det=False, use_cls=False)[0] or [["", 0.0]])[0] for img in images]
        out = []
        for index, (crop, (text, score)) in enumerate(zip(crops, results, strict=True)):
            out.append(split_line(str(text), 0.0, 0.0, float(crop.shape[1]), float(crop.shape[0]), float(score),
                                  (index,)))
        return out


ENGINES: dict[str, type[TesseractEngine] | type[RapidOCREngine]] = {
    "tesseract": TesseractEngine, "rapidocr": RapidOCREngine}


def engine(name: str, **options: Any) -> OCREngine:
    """The OCR engine called ``name`` (``tesseract`` or ``rapidocr``).

    Raises:
        ConfigurationError: unknown engine, or it is not installed.
    """
    if name not in ENGINES:
        raise ConfigurationError(f"unknown OCR engine {name!r}; known: {', '.join(ENGINES)}")
    built: OCREngine = ENGINES[name](**options)
    return built
