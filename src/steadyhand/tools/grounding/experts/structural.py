"""The structural expert: spreadsheet cells addressed by reference, not by pixels.

``set_cell_values`` requests carry ``context={"cells": {"A1": 3, "B2": "=A1*2"}, "sheet": "Sheet1"}``
and ``app`` (the document's window title, as in Agent S2's ``set_cell_values(cells,
app_name, sheet_name)``), or ``context["path"]`` for a spreadsheet file.

* Through LibreOffice UNO, *inside the desktop*: a fixed script (:data:`UNO_SCRIPT`,
  data passed as JSON on its command line, never as code) runs with the desktop's
  ``python3`` through :meth:`DesktopClient.execute`, asks the running LibreOffice to
  listen on a pipe private to that desktop, lists open spreadsheets (grounding) or
  writes cells (:meth:`StructuralExpert.apply`).
* With openpyxl for ``.xlsx`` files: on the host when the path exists here, else
  fetched from and written back to the desktop.

Grounding checks the references, finds the document and the sheet, and returns a
:class:`CellTarget`; it changes nothing. Spec: ``auto`` (default), ``uno`` or ``openpyxl``.
"""

from __future__ import annotations

import io
import json
import os
import re
from typing import Any, ClassVar

from steadyhand.core.errors import ConfigurationError
from steadyhand.core.observation import Observation
from steadyhand.tools.grounding import matching
from steadyhand.tools.grounding.base import (
    CELL_ACTIONS,
    CellTarget,
    GroundingError,
    GroundingRequest,
    GroundingResult,
    register_expert,
)
from steadyhand.tools.grounding.experts.uno_script import UNO_SCRIPT
from steadyhand.tools.grounding.specs import reject_unknown, split_spec

_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?([1-9][0-9]{0,6})$")
_PYTHONS = ("/usr/bin/python3", "python3")


def cell_index(ref: str) -> tuple[int, int]:
    """``"B3"`` as zero-based (column, row).

    Raises:
        GroundingError: not an A1-style reference.
    """
    match = _REF.match(ref.strip())
    if not match:
        raise GroundingError(f"structural expert: {ref!r} is not a cell reference like A1 or $B$3")
    column = 0
    for char in match.group(1).upper():
        column = column * 26 + ord(char) - 64
    return column - 1, int(match.group(2)) - 1


def normalise_cells(cells: Any) -> dict[str, Any]:
    """Cells as ``{"A1": value}`` with upper-case references; values must be JSON scalars.

    Raises:
        GroundingError: not a mapping, a bad reference, or a value that is not a scalar.
    """
    if not isinstance(cells, dict) or not cells:
        raise GroundingError("structural expert: context['cells'] must be a non-empty {reference: value} mapping")
    out: dict[str, Any] = {}
    for ref, value in cells.items():
        cell_index(str(ref))
        if value is not None and not isinstance(value, str | int | float | bool):
            raise GroundingError(f"structural expert: the value for {ref} must be text, a number or null, "
                                 f"not {type(value).__name__}")
        out[str(ref).replace("$", "").upper()] = value
    return out


def _run_uno(client: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """Run :data:`UNO_SCRIPT` inside the desktop with ``payload``; its JSON answer.

    Raises:
        GroundingError: no interpreter with ``uno`` in the desktop, or the script failed.
    """
    errors = []
    for python in _PYTHONS:
        result = client.execute([python, "-c", UNO_SCRIPT, json.dumps(payload)], timeout_s=60)
        output = str(result.get("output") or "").strip().splitlines()
        # The answer is the script's last line, written once the work is done: it counts even when
        # the interpreter then exits badly (the UNO bridge can crash while it is torn down).
        try:
            answer = json.loads(output[-1]) if output else None
        except ValueError:
            answer = None
        if isinstance(answer, dict):
            if answer.get("error"):
                raise GroundingError(f"structural expert (UNO): {answer['error']}")
            return dict(answer)
        errors.append(f"{python}: {(result.get('error') or result.get('output') or '').strip()[-300:]}")
    raise GroundingError("structural expert: the UNO script could not run in the desktop (python3-uno "
                         "installed there?): " + " | ".join(errors))


def uno_documents(client: Any) -> list[dict[str, Any]]:
    """Open spreadsheets in the desktop's LibreOffice: ``[{title, url, sheets, active_sheet}]``."""
    return list(_run_uno(client, {"op": "list"}).get("documents", []))


def uno_set_cells(client: Any, cells: dict[str, Any], *, app: str | None = None,
                  sheet: str | None = None) -> dict[str, Any]:
    """Write cells in an open spreadsheet through UNO, inside the desktop.

    Strings starting with ``=`` are formulas, numbers are numbers, None clears.

    Raises:
        GroundingError: no such document or sheet, or UNO failed.
    """
    return _run_uno(client, {"op": "set", "cells": normalise_cells(cells), "app": app, "sheet": sheet})


def uno_get_cells(client: Any, refs: list[str], *, app: str | None = None,
                  sheet: str | None = None) -> dict[str, dict[str, Any]]:
    """Read cells of an open spreadsheet through UNO: ``{ref: {string, value, formula}}``.

    Raises:
        GroundingError: no such document or sheet, or UNO failed.
    """
    cells = normalise_cells({ref: None for ref in refs})
    return dict(_run_uno(client, {"op": "get", "cells": cells, "app": app, "sheet": sheet})["cells"])


def _workbook(data: bytes) -> Any:
    try:
        import openpyxl
    except ImportError as exc:
        raise ConfigurationError("openpyxl is needed for spreadsheet files: "
                                 "pip install 'steadyhand[grounding]'") from exc
    try:
        return openpyxl.load_workbook(io.BytesIO(data))
    except Exception as exc:
        raise GroundingError(f"structural expert: not a readable .xlsx file: {exc}") from exc


def xlsx_set_cells(data: bytes, cells: dict[str, Any], *, sheet: str | None = None) -> bytes:
    """An .xlsx file's bytes with cells written (formulas kept as formulas).

    Raises:
        GroundingError: unreadable file or unknown sheet.
    """
    book = _workbook(data)
    if sheet is not None and sheet not in book.sheetnames:
        raise GroundingError(f"structural expert: no sheet {sheet!r}; sheets: {', '.join(book.sheetnames)}")
    target = book[sheet] if sheet else book.active
    for ref, value in normalise_cells(cells).items():
        target[ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _client_for(observation: Observation, client: Any) -> Any:
    if client is not None:
        return client
    url = observation.info.get("url")
    if not url:
        raise GroundingError("structural expert: no desktop to ask (observation.info has no 'url')")
    from steadyhand.environments.desktop.client import DesktopClient

    return DesktopClient(str(url))


def _pick(documents: list[dict[str, Any]], app: str | None) -> dict[str, Any]:
    if not documents:
        raise GroundingError("structural expert: no spreadsheet is open in LibreOffice")
    if not app:
        return documents[0]
    scored = sorted(documents, key=lambda d: -max(matching.similarity(app, d.get("title", "")),
                                                  matching.similarity(app, os.path.basename(d.get("url", "")))))
    best = scored[0]
    title = best.get("title", "")
    if matching.normalize(app) not in matching.normalize(title) and matching.similarity(app, title) < 0.5:
        names = ", ".join(repr(d.get("title")) for d in documents)
        raise GroundingError(f"structural expert: no open spreadsheet is called {app!r}; open: {names}")
    return best


@register_expert("structural")
class StructuralExpert:
    """Spreadsheet cells through LibreOffice UNO or openpyxl (see the module docstring).

    Args:
        spec: ``auto``, ``uno`` or ``openpyxl``.
        client: a :class:`DesktopClient`; by default one is made from ``observation.info["url"]``.
    """

    name = "structural"
    serves: ClassVar[frozenset[str]] = CELL_ACTIONS

    def __init__(self, spec: str = "auto", *, client: Any = None) -> None:
        head, options = split_spec(spec or "auto")
        reject_unknown("structural", options)
        if head not in ("auto", "uno", "openpyxl"):
            raise ConfigurationError(f"structural expert: spec must be auto, uno or openpyxl, not {head!r}")
        self.spec = spec or "auto"
        self.mode = head
        self.client = client

    def ground(self, request: GroundingRequest, observation: Observation) -> GroundingResult:
        """Check the cells and find the document and sheet; nothing is written.

        Raises:
            GroundingError: bad cells, no such document or sheet, or no way to reach them.
        """
        cells = normalise_cells(request.context.get("cells"))
        sheet = request.context.get("sheet") or request.context.get("sheet_name")
        path = request.context.get("path")
        if path and self.mode in ("auto", "openpyxl"):
            if not str(path).lower().endswith((".xlsx", ".xlsm")):
                raise GroundingError(f"structural expert: openpyxl edits .xlsx files, not {path!r}")
            data = self._read_file(str(path), observation)
            book = _workbook(data)
            if sheet and sheet not in book.sheetnames:
                raise GroundingError(f"structural expert: {path} has no sheet {sheet!r}; "
                                     f"sheets: {', '.join(book.sheetnames)}")
            return GroundingResult(target=CellTarget(cells=cells, sheet=sheet or book.active.title, app=str(path)),
                                   confidence=1.0, expert=self.name, details={"method": "openpyxl", "path": path})
        if self.mode == "openpyxl":
            raise GroundingError("structural expert (openpyxl): the request has no context['path']")
        document = _pick(uno_documents(_client_for(observation, self.client)), request.app)
        sheets = list(document.get("sheets", []))
        if sheet and sheet not in sheets:
            raise GroundingError(f"structural expert: {document.get('title')!r} has no sheet {sheet!r}; "
                                 f"sheets: {', '.join(sheets)}")
        return GroundingResult(
            target=CellTarget(cells=cells, sheet=sheet or document.get("active_sheet"), app=document.get("title")),
            confidence=1.0, expert=self.name, details={"method": "uno", "document": document.get("url", "")})

    def _read_file(self, path: str, observation: Observation) -> bytes:
        if os.path.exists(path) and self.client is None and not observation.info.get("url"):
            with open(path, "rb") as handle:
                return handle.read()
        try:
            data: bytes = _client_for(observation, self.client).get_file(path)
        except FileNotFoundError as exc:
            raise GroundingError(f"structural expert: no file {path!r} in the desktop") from exc
        return data

    def apply(self, target: CellTarget, observation: Observation, *, path: str | None = None) -> dict[str, Any]:
        """Write a grounded :class:`CellTarget`: through UNO in the desktop, or into the ``.xlsx`` at ``path``.

        Raises:
            GroundingError: the document, sheet or file is gone, or the write failed.
        """
        if path:
            data = xlsx_set_cells(self._read_file(path, observation), target.cells, sheet=target.sheet)
            if os.path.exists(path) and self.client is None and not observation.info.get("url"):
                with open(path, "wb") as handle:
                    handle.write(data)
            else:
                _client_for(observation, self.client).upload_file(path, data)
            return {"method": "openpyxl", "path": path, "cells": len(target.cells)}
        return uno_set_cells(_client_for(observation, self.client), target.cells, app=target.app, sheet=target.sheet)
