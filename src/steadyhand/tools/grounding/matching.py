"""Matching an element description against on-screen text (OCR words, accessible names).

A worker writes descriptions such as ``the "Save As..." menu item`` or ``File menu``.
:func:`phrases` turns one into the phrases worth looking for, each with a
*coverage* (how much of the description it accounts for): a quoted phrase covers
everything, a word picked out of an unquoted sentence covers less, and experts
scale their confidence by it so the router can fall back when a match explains
only part of what was asked.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz

_QUOTES = re.compile(r"\"([^\"]+)\"|“([^”]+)”|‘([^’]+)’|«([^»]+)»|(?<![\w])'([^']+)'(?![\w])")

#: Words that name a widget's kind or position rather than its text.
ROLE_WORDS = frozenset((
    "button", "buttons", "menu", "menus", "item", "items", "menuitem", "entry", "field", "fields", "box", "textbox",
    "label", "labeled", "labelled", "link", "links", "tab", "tabs", "icon", "icons", "checkbox", "radio", "toggle",
    "heading", "dropdown", "combo", "combobox", "listbox", "cell", "toolbar", "panel", "pane", "dialog", "input",
    "selector", "slider", "scrollbar", "paragraph", "called", "named", "says", "saying", "reading", "the", "a",
    "an", "of", "in", "on", "at", "to", "for", "with", "near", "next", "top", "bottom", "left", "right", "upper",
    "lower", "that", "which", "this", "its", "it", "is", "text", "option", "column", "header", "row", "submenu",
))


def normalize(text: str) -> str:
    """Lower case, accents folded, punctuation dropped, whitespace collapsed."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    folded = re.sub(r"[^\w\s]|_", " ", folded)
    return " ".join(folded.split())


def similarity(a: str, b: str) -> float:
    """How alike two texts are after :func:`normalize`, in [0, 1]."""
    na, nb = normalize(a), normalize(b)
    if not na or not nb:
        return 0.0
    if na == nb:
        return 1.0
    return float(fuzz.ratio(na, nb)) / 100.0


@dataclass(frozen=True)
class Phrase:
    """A text to look for and the share of the description it accounts for (0-1]."""

    text: str
    coverage: float
    quoted: bool = False

    @property
    def words(self) -> list[str]:
        return normalize(self.text).split()


def quoted(description: str) -> list[str]:
    """The quoted parts of a description, in order."""
    return [next(g for g in match.groups() if g) for match in _QUOTES.finditer(description)]


def content_words(description: str) -> list[str]:
    """The description's words that are not role or filler words."""
    return [word for word in normalize(description).split() if word not in ROLE_WORDS]


def phrases(description: str, *, max_words: int = 8) -> list[Phrase]:
    """Phrases to look for, best first.

    Quoted parts come first with full coverage. Otherwise the description's
    content words (role and filler words dropped) and every contiguous run of
    them, each with coverage = its share of the content characters.
    """
    found = [Phrase(text, 1.0, True) for text in quoted(description) if normalize(text)]
    if found:
        return found
    words = content_words(description)[:max_words]
    if not words:
        words = normalize(description).split()[:max_words]
    total = sum(len(w) for w in words) or 1
    runs: list[Phrase] = []
    for size in range(len(words), 0, -1):
        for start in range(len(words) - size + 1):
            chunk = words[start:start + size]
            runs.append(Phrase(" ".join(chunk), sum(len(w) for w in chunk) / total))
    return runs


def role_hints(description: str) -> set[str]:
    """Widget kinds a description mentions (``button``, ``menu``, ``link``...)."""
    words = set(normalize(description).split())
    kinds = {"button", "menu", "link", "tab", "checkbox", "heading", "field", "cell", "label", "item", "icon",
             "combo", "list", "radio", "toolbar", "dialog", "entry", "input", "title"}
    return words & kinds


def confidence(score: float, phrase: Phrase) -> float:
    """An expert's confidence for a match of ``score`` on ``phrase``: partial phrases count less."""
    return max(0.0, min(1.0, score * (0.55 + 0.45 * phrase.coverage)))
