"""SEA's knowledge base: pages in JSONL, split into paragraphs at markdown sections.

One page per line::

    {"id": "debian:vim", "name": "vim", "abstract": "Vi IMproved - enhanced vi editor",
     "url": "https://packages.debian.org/bookworm/vim", "wikitext": "...## Description\\n..."}

The text before the first heading (the lead) and every ``#``-heading section of
``wikitext`` become one :class:`Paragraph` each; sections with fewer than
``min_chars`` characters of body text are dropped. Paragraph ids are
``"<page id>#<n>"`` with ``n`` counting the kept paragraphs of the page, so they
are stable for a given file.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from steadyhand.core.errors import ConfigurationError, DatasetError

__all__ = ["MIN_PAGES", "KnowledgeBase", "Page", "Paragraph", "cached_kb", "default_kb_dir", "even_slice", "load_kb",
           "split_sections", "write_kb"]

#: The fewest pages a built knowledge base may have: SEA is for bases too large to test exhaustively.
MIN_PAGES = 5000

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


class Page(BaseModel):
    """One knowledge-base page in SEA's format."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    name: str
    abstract: str = ""
    url: str = ""
    wikitext: str = ""


@dataclass(frozen=True)
class Paragraph:
    """One section of a page: the unit SEA tests and retrieves."""

    id: str
    page_id: str
    page_name: str
    heading: str
    text: str

    @property
    def display(self) -> str:
        """Heading and text, as shown to question generators and embedders."""
        return f"{self.page_name} - {self.heading}: {self.text}" if self.heading else f"{self.page_name}: {self.text}"


def split_sections(wikitext: str) -> list[tuple[str, str]]:
    """(heading, body) for the lead (heading ``""``) and every markdown section, in order."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in wikitext.splitlines():
        match = _HEADING.match(line)
        if match:
            sections.append((match.group(2).strip(), []))
        else:
            sections[-1][1].append(line)
    return [(heading, "\n".join(lines).strip()) for heading, lines in sections]


@dataclass
class KnowledgeBase:
    """Pages and their paragraphs, in file order.

    ``fingerprint`` identifies the content (and the splitting rule), so caches of
    embeddings and questions built from one knowledge base are never used for another.
    """

    pages: list[Page]
    min_chars: int = 20
    fingerprint: str = ""
    _by_id: dict[str, int] = field(default_factory=dict, repr=False)
    _paragraphs: dict[str, list[Paragraph]] = field(default_factory=dict, repr=False)
    _paragraph_index: dict[str, Paragraph] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for i, page in enumerate(self.pages):
            if page.id in self._by_id:
                raise DatasetError("duplicate page id", item=page.id, field="id")
            self._by_id[page.id] = i
        if not self.fingerprint:
            digest = hashlib.sha256(f"min_chars={self.min_chars}\n".encode())
            for page in self.pages:
                digest.update(page.model_dump_json().encode())
            self.fingerprint = digest.hexdigest()[:16]

    def __len__(self) -> int:
        return len(self.pages)

    def page(self, page_id: str) -> Page:
        """The page with this id. Raises KeyError."""
        return self.pages[self._by_id[page_id]]

    def page_position(self, page_id: str) -> int:
        """The row of this page in :attr:`pages` (and in page-embedding matrices)."""
        return self._by_id[page_id]

    def paragraphs(self, page_id: str) -> list[Paragraph]:
        """The paragraphs of one page (computed once, then kept)."""
        if page_id not in self._paragraphs:
            page = self.page(page_id)
            kept = [(h, body) for h, body in split_sections(page.wikitext) if len(body) >= self.min_chars]
            self._paragraphs[page_id] = [
                Paragraph(id=f"{page.id}#{n}", page_id=page.id, page_name=page.name, heading=h, text=body)
                for n, (h, body) in enumerate(kept)]
        return self._paragraphs[page_id]

    def iter_paragraphs(self) -> Iterator[Paragraph]:
        """Every paragraph of every page, in file order."""
        for page in self.pages:
            yield from self.paragraphs(page.id)

    def paragraph(self, paragraph_id: str) -> Paragraph:
        """The paragraph with this id. Raises KeyError."""
        page_id, _, n = paragraph_id.rpartition("#")
        if not page_id or not n.isdigit():
            raise KeyError(paragraph_id)
        return self.paragraphs(page_id)[int(n)]

    def paragraph_ids(self) -> list[str]:
        """Every paragraph id, in file order."""
        return [p.id for p in self.iter_paragraphs()]

    def page_text(self, page_id: str) -> str:
        """What the page index embeds: title and abstract."""
        page = self.page(page_id)
        return f"{page.name}: {page.abstract}" if page.abstract else page.name


def load_kb(path: str | Path, *, min_chars: int = 20, limit: int | None = None) -> KnowledgeBase:
    """Read a JSONL knowledge base.

    Raises:
        ConfigurationError: the file cannot be read.
        DatasetError: a line is not a JSON object with the page fields (names file, line and field).
    """
    path = Path(path)
    pages: list[Page] = []
    digest = hashlib.sha256(f"min_chars={min_chars}\n".encode())
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read knowledge base {path}: {exc}") from exc
    with handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            if limit is not None and len(pages) >= limit:
                break
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"not JSON: {exc.msg}", path=str(path), item=f"line {lineno}") from exc
            if not isinstance(data, dict):
                raise DatasetError("a page must be a JSON object", path=str(path), item=f"line {lineno}")
            try:
                page = Page.model_validate(data)
            except ValidationError as exc:
                first = exc.errors()[0]
                raise DatasetError(first["msg"], path=str(path), item=f"line {lineno}",
                                   field=".".join(str(p) for p in first["loc"])) from exc
            pages.append(page)
            digest.update(page.model_dump_json().encode())
    if not pages:
        raise DatasetError("the knowledge base has no pages", path=str(path))
    try:
        return KnowledgeBase(pages, min_chars=min_chars, fingerprint=digest.hexdigest()[:16])
    except DatasetError as exc:
        raise DatasetError(str(exc), path=str(path)) from exc


def write_kb(pages: Iterable[Page], path: str | Path) -> int:
    """Write pages as JSONL atomically (a temporary file renamed into place); returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as out:
        for page in pages:
            out.write(page.model_dump_json() + "\n")
            n += 1
    tmp.replace(path)
    return n


_T = TypeVar("_T")


def even_slice(items: Sequence[_T], n: int | None) -> list[_T]:
    """Every k-th item so that ``n`` are kept (all of them when ``n`` is ``None`` or not smaller)."""
    if n is None or n >= len(items):
        return list(items)
    stride = len(items) / n
    return [items[int(i * stride)] for i in range(n)]


def default_kb_dir() -> Path:
    """Where built knowledge bases are cached."""
    from steadyhand.models.transformers_chat import cache_dir

    return cache_dir() / "sea" / "kb"


def cached_kb(name: str, key: str, build: Callable[[], list[Page]], out: str | Path | None = None) -> Path:
    """The built knowledge base ``<name>-<key>.jsonl`` in the cache, written by ``build()`` if missing.

    With ``out``, a copy there is returned instead.
    """
    cached = default_kb_dir() / f"{name}-{key}.jsonl"
    if not cached.is_file():
        write_kb(build(), cached)
    if out is None:
        return cached
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, target)
    return target
