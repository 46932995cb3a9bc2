from __future__ import annotations

from pathlib import Path

import pytest

from steadyhand.core.errors import DatasetError
from steadyhand.evals.sea import Page, load_kb, write_kb
from steadyhand.evals.sea.debian import build_debian_kb, debian_pages, parse_records
from steadyhand.evals.sea.kb import split_sections
from steadyhand.evals.sea.pydocs import build_python_kb, module_pages

RECORDS = """Package: vim
Version: 2:9.0.1378-2
Maintainer: Debian Vim Maintainers <team+vim@tracker.debian.org>
Architecture: amd64
Depends: vim-common (= 2:9.0.1378-2), libc6 (>= 2.34), libgpm2 | libgpm-dev
Suggests: ctags
Description: Vi IMproved - enhanced vi editor
 Vim is an almost compatible version of the UNIX editor Vi.
 .
 Many new features have been added.
Homepage: https://www.vim.org/
Tag: implemented-in::c, interface::commandline,
 use::editing
Section: editors
Priority: optional

Package: vim
Version: 2:9.0.1000-1
Description: Vi IMproved - enhanced vi editor
Section: editors

Package: 0ad
Version: 0.0.26-3
Section: contrib/games
Description: Real-time strategy game of ancient warfare
"""


def test_sections_become_paragraphs(tmp_path: Path) -> None:
    text = "Lead text that is long enough.\n\n## History\nBuilt in 1991 by many people.\n\n## Empty\n\n# Uses\nshort\n"
    assert [h for h, _ in split_sections(text)] == ["", "History", "Empty", "Uses"]
    path = tmp_path / "kb.jsonl"
    write_kb([Page(id="p1", name="One", abstract="a", url="u", wikitext=text)], path)
    kb = load_kb(path)
    paragraphs = kb.paragraphs("p1")
    assert [(p.id, p.heading) for p in paragraphs] == [("p1#0", ""), ("p1#1", "History")]  # short sections dropped
    assert kb.paragraph("p1#1").text == "Built in 1991 by many people."
    assert kb.paragraph_ids() == ["p1#0", "p1#1"]
    assert load_kb(path).fingerprint == kb.fingerprint
    write_kb([Page(id="p1", name="One", abstract="b", url="u", wikitext=text)], path)
    assert load_kb(path).fingerprint != kb.fingerprint


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "line 2: not JSON"),
    ('["a list"]', "line 2: a page must be a JSON object"),
    ('{"name": "no id"}', "line 2, field 'id'"),
])
def test_malformed_pages_are_named(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "kb.jsonl"
    path.write_text('{"id": "ok", "name": "fine"}\n' + line + "\n")
    with pytest.raises(DatasetError, match=message):
        load_kb(path)


def test_duplicate_page_ids_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "kb.jsonl"
    path.write_text('{"id": "a", "name": "x"}\n{"id": "a", "name": "y"}\n')
    with pytest.raises(DatasetError, match="duplicate page id"):
        load_kb(path)


def test_debian_records_render_as_pages() -> None:
    records = list(parse_records(RECORDS))
    assert records[0]["Description"].split("\n") == [
        "Vi IMproved - enhanced vi editor", "Vim is an almost compatible version of the UNIX editor Vi.", "",
        "Many new features have been added."]
    pages = debian_pages(RECORDS)
    assert [p.name for p in pages] == ["0ad", "vim"]  # sorted, one per package
    vim = pages[1]
    assert vim.abstract == "Vi IMproved - enhanced vi editor"
    assert vim.url.endswith("/vim")
    sections = dict(split_sections(vim.wikitext))
    assert "2:9.0.1378-2" in sections["Description"]  # the richer record wins
    assert "Many new features have been added." in sections["Description"]
    assert "editors section of the Debian main archive" in sections["Classification"]
    assert "It is implemented in c." in sections["Classification"]
    assert "vim depends on vim-common, libc6, libgpm2 and libgpm-dev." in sections["Relationships"]
    assert "maintained by Debian Vim Maintainers." in sections["Maintenance"]
    assert "<" not in vim.wikitext  # no e-mail addresses
    assert "games section of the Debian contrib archive" in pages[0].wikitext


def test_builder_makes_a_slice_of_the_real_archive(tmp_path: Path) -> None:
    """Reads this machine's Debian package records (apt lists, or the dpkg status file)."""
    path = build_debian_kb(tmp_path / "kb.jsonl", max_pages=200, min_pages=None)
    kb = load_kb(path)
    assert len(kb) == 200
    assert len({p.name[0] for p in kb.pages}) > 5  # spread over the alphabet, not the first 200 names
    again = build_debian_kb(tmp_path / "again.jsonl", max_pages=200, min_pages=None)
    assert again.read_bytes() == path.read_bytes()  # deterministic
    assert sum(1 for _ in kb.iter_paragraphs()) >= 600


MODULE = '''"""Tools for brewing tea.

Everything here is about tea.
"""

def steep(leaves: int, minutes: float = 3.0) -> str:
    """Steep the leaves for some minutes and return the tea.

    Longer steeping makes the tea bitter.

    >>> steep(2)
    'tea'
    """

def _private(x):
    """A helper nobody should read about in the docs."""

class Kettle:
    """A kettle that boils water for the tea."""

    def __init__(self, volume):
        """Unused: the class's docstring speaks for it."""

    def boil(self):
        """Boil the water until it bubbles, then switch off."""

    def hum(self):
        """Short."""
'''


def test_python_docs_pages_come_from_docstrings_without_importing() -> None:
    pages = {p.name: p for p in module_pages("tea", MODULE + "\nraise SystemExit('imported!')\n")}
    assert list(pages) == ["tea", "tea.steep", "tea.Kettle", "tea.Kettle.boil"]  # private and short ones left out
    steep = pages["tea.steep"]
    assert steep.id == "python:tea.steep" and steep.abstract == "Steep the leaves for some minutes and return the tea."
    assert "The signature is tea.steep(leaves: int, minutes: float=3.0) -> str." in steep.wikitext
    assert "Longer steeping makes the tea bitter." in steep.wikitext and ">>>" not in steep.wikitext
    assert "tea.steep is a function of the tea module" in steep.wikitext and "defines Kettle" in steep.wikitext
    assert "The signature is tea.Kettle(volume)." in pages["tea.Kettle"].wikitext  # self is not an argument
    assert "tea is a module of the Python standard library. Beside it, the module defines steep, Kettle." in (
        pages["tea"].wikitext)
    assert list(module_pages("broken", "def (:\n")) == []


def test_python_docs_builder_reads_this_interpreters_standard_library(tmp_path: Path) -> None:
    path = build_python_kb(tmp_path / "kb.jsonl", max_pages=300, min_pages=None)
    kb = load_kb(path)
    assert len(kb) == 300
    assert len({p.name.split(".")[0] for p in kb.pages}) > 40  # spread over the library, not one module
    assert build_python_kb(tmp_path / "again.jsonl", max_pages=300, min_pages=None).read_bytes() == path.read_bytes()
    paragraphs = list(kb.iter_paragraphs())
    assert len(paragraphs) >= 600 and {"Signature", "Where"} <= {p.heading for p in paragraphs}
    full = load_kb(build_python_kb())
    assert len(full) >= 5000 and full.page("python:json.dumps").abstract.startswith("Serialize")
