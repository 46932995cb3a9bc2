"""A knowledge base from the Python standard library's documentation, available offline wherever Python is.

The source is the docstrings of the running interpreter's standard library, read
with :mod:`ast` (nothing is imported, so no module runs). Every documented public
module, class, function and method becomes one page in SEA's format: the first
paragraph of its docstring is the abstract and the lead, and the wikitext has up
to three markdown sections: the signature, the rest of the docstring, and where
it is defined (its module and the names beside it).

The output is a pure function of the interpreter's standard library: files and
definitions in sorted order, fields rendered by fixed templates. It is cached
under the steadyhand cache directory, keyed by the Python version, the builder
version and the library's path.
"""

from __future__ import annotations

import ast
import hashlib
import re
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

from steadyhand.core.errors import ConfigurationError
from steadyhand.evals.sea.kb import MIN_PAGES, Page, cached_kb, even_slice

__all__ = ["BUILDER_VERSION", "build_python_kb", "module_pages", "python_doc_pages"]

#: Bumped whenever the rendering changes, so older cached files are not reused.
BUILDER_VERSION = 1
#: Docstrings shorter than this document nothing worth asking about.
MIN_DOC_CHARS = 30
# Tests, demos and the installer's bundled wheels are code, not documentation.
_SKIPPED = frozenset({"test", "tests", "idle_test", "turtledemo", "ensurepip", "site-packages", "dist-packages",
                      "__pycache__", "__phello__"})
_MAX_SIBLINGS = 12
_Definition = ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef


def _paragraphs(doc: str) -> list[str]:
    """Prose paragraphs of a docstring, each on one line; doctest examples and code blocks are dropped."""
    out = []
    for block in re.split(r"\n\s*\n", doc):
        lines = [line.strip() for line in block.strip().splitlines()]
        if not lines or lines[0].startswith((">>>", "...", "$ ")) or block.startswith((" ", "\t")):
            continue
        out.append(" ".join(line for line in lines if line))
    return out


def _signature(name: str, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str | None:
    if isinstance(node, ast.ClassDef):
        init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        if init is None:
            return None
        node = init
    args = ast.unparse(node.args)
    args = re.sub(r"^(self|cls)(, )?", "", args)
    returns = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
    return f"{name}({args}){returns}"


def _public(node: ast.stmt) -> bool:
    return isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_")


def _page(module: str, name: str, kind: str, node: _Definition, siblings: list[str]) -> Page | None:
    doc = ast.get_docstring(node)
    if not doc or len(doc) < MIN_DOC_CHARS:
        return None
    paragraphs = _paragraphs(doc)
    if not paragraphs:
        return None
    sections = [paragraphs[0]]
    if not isinstance(node, ast.Module):
        signature = _signature(name, node)
        if signature and len(signature) < 400:
            sections += ["", "## Signature", f"The signature is {signature}."]
    if len(paragraphs) > 1:
        sections += ["", "## Details", "\n".join(paragraphs[1:6])]
    where = (f"{name} is a module of the Python standard library." if kind == "module" else
             f"{name} is a {kind} of the {module} module of the Python standard library.")
    others = [s for s in siblings if s != name.rsplit(".", 1)[-1]][:_MAX_SIBLINGS]
    if others:
        where += f" Beside it, {'the module' if kind == 'module' else 'its scope'} defines {', '.join(others)}."
    sections += ["", "## Where", where]
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    anchor = "" if kind == "module" else f"#{name}"
    return Page(id=f"python:{name}", name=name, abstract=paragraphs[0][:300],
                url=f"https://docs.python.org/{version}/library/{module.split('.')[0]}.html{anchor}",
                wikitext="\n".join(sections) + "\n")


def module_pages(module: str, source: str) -> Iterator[Page]:
    """The pages of one module's source: the module, its public classes and functions, their public methods.

    A module that does not parse yields nothing.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return
    top = [n for n in tree.body if _public(n)]
    top_names = [n.name for n in top if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
    if (page := _page(module, module, "module", tree, top_names)) is not None:
        yield page
    for node in top:
        assert isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        kind = "class" if isinstance(node, ast.ClassDef) else "function"
        if (page := _page(module, f"{module}.{node.name}", kind, node, top_names)) is not None:
            yield page
        if isinstance(node, ast.ClassDef):
            methods = [n for n in node.body if _public(n) and not isinstance(n, ast.ClassDef)]
            names = [n.name for n in methods if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
            for method in methods:
                assert isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef))
                page = _page(module, f"{module}.{node.name}.{method.name}", "method", method, names)
                if page is not None:
                    yield page


def _modules(stdlib: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(stdlib.rglob("*.py")):
        parts = path.relative_to(stdlib).with_suffix("").parts
        if any(p in _SKIPPED or (p.startswith("_") and p != "__init__") for p in parts):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and "-" not in "".join(parts):
            yield ".".join(parts), path


def python_doc_pages(stdlib: str | Path | None = None, *, max_pages: int | None = None) -> list[Page]:
    """Pages for every documented public definition of the standard library at ``stdlib`` (default: this one's).

    With ``max_pages``, an evenly spaced slice of them, so a small knowledge base
    still spans the library.
    """
    root = Path(stdlib or sysconfig.get_paths()["stdlib"])
    pages: dict[str, Page] = {}
    for module, path in _modules(root):
        for page in module_pages(module, path.read_text(encoding="utf-8", errors="replace")):
            pages.setdefault(page.id, page)  # a name defined twice (try/except imports): keep the first
    return even_slice(list(pages.values()), max_pages)


def build_python_kb(out: str | Path | None = None, *, max_pages: int | None = None,
                    min_pages: int | None = MIN_PAGES) -> Path:
    """Build (or reuse) the Python documentation knowledge base; returns the JSONL path.

    Args:
        out: where to write it; by default a cached file named by the interpreter and builder versions.
        max_pages: keep an evenly spaced slice of this many pages (for tests and demos).
        min_pages: fail if fewer pages come out (``None`` disables the check).

    Raises:
        ConfigurationError: the standard library's sources are missing, or fewer than ``min_pages`` pages.
    """
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    if not (stdlib / "os.py").is_file():
        raise ConfigurationError(f"no Python standard library sources at {stdlib}: this interpreter ships "
                                 "bytecode only, so there are no docstrings to read")

    def build() -> list[Page]:
        pages = python_doc_pages(stdlib, max_pages=max_pages)
        if min_pages is not None and len(pages) < min(min_pages, max_pages or min_pages):
            raise ConfigurationError(f"only {len(pages)} documented definitions in {stdlib}; a knowledge base "
                                     f"needs {min_pages}")
        return pages

    key = hashlib.sha256(f"v{BUILDER_VERSION}:{max_pages}:{sys.version}:{stdlib}".encode()).hexdigest()[:16]
    return cached_kb("python", key, build, out)
