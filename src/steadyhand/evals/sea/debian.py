"""A knowledge base from Debian's package records, available offline on every Debian machine.

The source is ``apt-cache dumpavail`` (the package lists apt already has: tens of
thousands of packages on a stock bookworm image), or the installed packages in
``/var/lib/dpkg/status`` where apt has no lists. Each package becomes one page in
SEA's format: its short description is the abstract, and the wikitext has four
markdown sections written from the package's fields (description, classification
with debtags, relationships, maintenance).

The output is a pure function of the input records: packages sorted by name,
fields rendered by fixed templates. It is cached under the steadyhand cache
directory keyed by a hash of the input, so building twice costs one read of the
lists.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from steadyhand.core.errors import ConfigurationError
from steadyhand.evals.sea.kb import MIN_PAGES, Page, cached_kb, even_slice

__all__ = ["BUILDER_VERSION", "build_debian_kb", "debian_pages", "parse_records", "read_records"]

#: Bumped whenever the rendering changes, so older cached files are not reused.
BUILDER_VERSION = 2
RELEASE = "bookworm"

_RELATIONS = (("Depends", "depends on"), ("Pre-Depends", "pre-depends on"), ("Recommends", "recommends"),
              ("Suggests", "suggests"), ("Provides", "provides"), ("Conflicts", "conflicts with"),
              ("Breaks", "breaks"), ("Replaces", "replaces"), ("Enhances", "enhances"))
_FACETS = {
    "role": "Its role is {}.", "implemented-in": "It is implemented in {}.",
    "interface": "Its interface is {}.", "use": "It is used for {}.", "works-with": "It works with {}.",
    "works-with-format": "It works with the {} format.", "scope": "Its scope is {}.",
    "suite": "It belongs to the {} suite.", "uitoolkit": "Its user-interface toolkit is {}.",
    "field": "Its field is {}.", "network": "On the network it acts as {}.", "protocol": "It speaks the {} protocol.",
    "made-of": "It is made of {}.", "game": "It is a {} game.", "hardware": "It deals with {} hardware.",
    "culture": "It is related to the {} culture.", "admin": "It administers {}.",
    "devel": "Its development role is {}.",
}
_MAX_NAMES = 10


def read_records() -> tuple[str, str]:
    """(text of every package record, where it came from).

    Raises:
        ConfigurationError: neither apt-cache nor the dpkg status file is available.
    """
    if shutil.which("apt-cache"):
        try:
            out = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, check=True,
                                 timeout=300).stdout
        except (subprocess.SubprocessError, OSError):
            out = ""
        if out.count("\nPackage: ") + out.startswith("Package: ") >= MIN_PAGES:
            return out, "apt-cache dumpavail"
    status = Path("/var/lib/dpkg/status")
    if status.is_file():
        return status.read_text(encoding="utf-8", errors="replace"), str(status)
    raise ConfigurationError("no Debian package records here: neither `apt-cache dumpavail` nor "
                             "/var/lib/dpkg/status is available (run `apt-get update` on a Debian machine)")


def parse_records(text: str) -> Iterator[dict[str, str]]:
    """RFC 822 stanzas as dicts; continuation lines are joined with newlines (`` .`` -> blank line)."""
    for stanza in text.split("\n\n"):
        record: dict[str, str] = {}
        key = ""
        for line in stanza.splitlines():
            if line.startswith((" ", "\t")) and key:
                body = line.strip()
                record[key] += "\n" + ("" if body == "." else body)
            elif ":" in line:
                key, _, value = line.partition(":")
                record[key] = value.strip()
        if record.get("Package"):
            yield record


def _names(field: str) -> list[str]:
    names: list[str] = []
    for alternative in re.split(r"[,|]", field):
        name = re.sub(r"\(.*?\)|\[.*?\]|<.*?>|:any|:native", "", alternative).strip()
        if name and name not in names:
            names.append(name)
    return names


def _join(items: list[str]) -> str:
    if len(items) > _MAX_NAMES:
        items = [*items[:_MAX_NAMES], f"{len(items) - _MAX_NAMES} more"]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _tags(field: str) -> list[str]:
    by_facet: dict[str, list[str]] = {}
    for tag in (t.strip() for t in field.replace("\n", " ").split(",")):
        facet, _, value = tag.partition("::")
        if facet and value and facet in _FACETS:
            by_facet.setdefault(facet, []).append(value.replace("-", " ").replace(":", " "))
    return [_FACETS[facet].format(_join(values)) for facet, values in by_facet.items()]


def _page(record: dict[str, str]) -> Page:
    name = record["Package"]
    short, _, long_text = record.get("Description", "").partition("\n")
    short = short.strip() or name
    source = _names(record.get("Source", ""))
    source_name = source[0] if source else name
    sections = ["## Description",
                f"{name} is a Debian package described as \"{short}\". It is built from the source package "
                f"{source_name}, version {record.get('Version', 'unknown')}."]
    for paragraph in (p.strip() for p in long_text.split("\n\n")):
        if paragraph:
            sections.append(paragraph.replace("\n", " "))
    archive_section = record.get("Section", "misc")
    area, _, subsection = archive_section.rpartition("/")
    classification = [f"{name} is in the {subsection} section of the Debian {area or 'main'} archive, with "
                      f"{record.get('Priority', 'optional')} priority, for the {record.get('Architecture', 'any')} "
                      "architecture."]
    classification += _tags(record.get("Tag", ""))
    sections += ["", "## Classification", " ".join(classification)]
    relations = [f"{name} {verb} {_join(_names(record[key]))}." for key, verb in _RELATIONS
                 if _names(record.get(key, ""))]
    if relations:
        sections += ["", "## Relationships", " ".join(relations)]
    maintainer = re.sub(r"\s*<.*?>", "", record.get("Maintainer", "")).strip()
    maintenance = [f"{name} is maintained by {maintainer}." if maintainer else f"{name} has no named maintainer."]
    if record.get("Homepage"):
        maintenance.append(f"Its upstream homepage is {record['Homepage']}.")
    if record.get("Installed-Size", "").isdigit():
        maintenance.append(f"Installed, it takes {record['Installed-Size']} KiB of disk space.")
    sections += ["", "## Maintenance", " ".join(maintenance)]
    return Page(id=f"debian:{name}", name=name, abstract=short,
                url=f"https://packages.debian.org/{RELEASE}/{name}", wikitext="\n".join(sections) + "\n")


def debian_pages(text: str, *, max_pages: int | None = None) -> list[Page]:
    """Pages for the package records in ``text``, sorted by package name, one per package.

    With ``max_pages``, an evenly spaced slice of the sorted packages (every k-th), so
    a small knowledge base still spans the archive's sections.
    """
    by_name: dict[str, dict[str, str]] = {}
    for record in parse_records(text):
        name = record["Package"]
        kept = by_name.get(name)
        # The same package may be listed by several suites: keep the richest record, then the later version.
        if kept is None or (len(record.get("Description", "")), record.get("Version", "")) > (
                len(kept.get("Description", "")), kept.get("Version", "")):
            by_name[name] = record
    return [_page(by_name[name]) for name in even_slice(sorted(by_name), max_pages)]


def build_debian_kb(out: str | Path | None = None, *, max_pages: int | None = None,
                    min_pages: int | None = MIN_PAGES) -> Path:
    """Build (or reuse) the Debian knowledge base; returns the JSONL path.

    Args:
        out: where to write it; by default a cached file named by a hash of the input.
        max_pages: keep an evenly spaced slice of this many packages (for tests and demos).
        min_pages: fail if fewer pages come out (``None`` disables the check).

    Raises:
        ConfigurationError: no package records here, or fewer than ``min_pages`` pages.
    """
    text, origin = read_records()

    def build() -> list[Page]:
        pages = debian_pages(text, max_pages=max_pages)
        if min_pages is not None and len(pages) < min(min_pages, max_pages or min_pages):
            raise ConfigurationError(f"only {len(pages)} package records in {origin}; a knowledge base needs "
                                     f"{min_pages}: run `apt-get update` to fetch Debian's package lists")
        return pages

    key = hashlib.sha256(f"v{BUILDER_VERSION}:{max_pages}\n".encode() + text.encode()).hexdigest()[:16]
    return cached_kb("debian", key, build, out)
