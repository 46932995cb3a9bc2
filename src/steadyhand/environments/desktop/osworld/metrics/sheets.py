"""Read spreadsheets the way table metrics need them: cell values, formulas, styles.

``.xlsx`` files (as LibreOffice or Excel save them) are read with openpyxl: values are
the cached results of formulas, as OSWorld reads them. ``.ods`` and flat ``.fods`` files
are read from their XML with the standard library; they give values and formulas, not
styles. Numbers come back as floats, text as str, empty cells as None.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from openpyxl.utils.cell import column_index_from_string as col_index
from openpyxl.utils.cell import coordinate_from_string, get_column_letter

_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}
_MAX_REPEAT = 1024  # a repeated non-empty cell or row is expanded at most this often

#: Style properties ``check_cell`` can read from .xlsx cells.
STYLE_PROPS = ("number_format", "font_name", "font_size", "font_bold", "font_italic", "font_underline",
               "font_color", "fill_type", "bgcolor", "fgcolor")


class SheetError(ValueError):
    """The file is not a spreadsheet this module can read."""


def _normal(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value == "":
        return None
    return value


@dataclass
class Book:
    """One workbook: sheet names in order, and per sheet its non-empty cells by (row, column)."""

    path: Path
    sheet_names: list[str]
    values: dict[str, dict[tuple[int, int], Any]]
    formulas: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)
    _styled: Any = None  # the openpyxl workbook, for style lookups (.xlsx only)

    def value(self, sheet: str, coordinate: str) -> Any:
        """The value at ``coordinate`` (``"B3"``) of ``sheet``; None when empty."""
        return self.values[sheet].get(_rc(coordinate))

    def formula(self, sheet: str, coordinate: str) -> str | None:
        """The cell's formula as ``=SUM(A1:A5)``, or None for a constant."""
        return self.formulas.get(sheet, {}).get(_rc(coordinate))

    def grid(self, sheet: str) -> list[list[Any]]:
        """Values of ``sheet`` from A1 to the last non-empty row and column."""
        cells = self.values[sheet]
        if not cells:
            return []
        rows = max(r for r, _ in cells)
        cols = max(c for _, c in cells)
        return [[cells.get((r, c)) for c in range(1, cols + 1)] for r in range(1, rows + 1)]

    def style(self, sheet: str, coordinate: str, prop: str) -> Any:
        """A style property of one cell (see :data:`STYLE_PROPS`); .xlsx only.

        Raises:
            SheetError: the file format has no style reader here, or ``prop`` is unknown.
        """
        if self._styled is None:
            raise SheetError(f"cell styles can only be read from .xlsx files, not {self.path.name}")
        cell = self._styled[sheet][coordinate]
        font, fill = cell.font, cell.fill
        readers = {
            "number_format": lambda: cell.number_format,
            "font_name": lambda: font.name,
            "font_size": lambda: font.size,
            "font_bold": lambda: bool(font.bold),
            "font_italic": lambda: bool(font.italic),
            "font_underline": lambda: font.underline,
            "font_color": lambda: font.color.rgb if font.color is not None else None,
            "fill_type": lambda: fill.fill_type,
            "bgcolor": lambda: fill.bgColor.rgb if fill.bgColor is not None else None,
            "fgcolor": lambda: fill.fgColor.rgb if fill.fgColor is not None else None,
        }
        if prop not in readers:
            raise SheetError(f"unknown cell style property {prop!r}")
        return readers[prop]()


def _rc(coordinate: str) -> tuple[int, int]:
    letters, row = coordinate_from_string(coordinate.replace("$", ""))
    return row, col_index(letters)


def coordinate(row: int, col: int) -> str:
    """``(3, 2)`` -> ``"B3"``."""
    return f"{get_column_letter(col)}{row}"


def open_book(path: str | Path) -> Book:
    """Read a .xlsx, .ods or .fods file.

    Raises:
        SheetError: missing, unreadable or not a spreadsheet.
    """
    path = Path(path)
    if not path.is_file():
        raise SheetError(f"no file {path}")
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
                if "content.xml" in names:
                    return _ods(path, z.read("content.xml"))
            return _xlsx(path)
        return _ods(path, path.read_bytes())
    except SheetError:
        raise
    except Exception as exc:  # openpyxl and expat raise many kinds for a broken file
        raise SheetError(f"{path.name}: not a readable spreadsheet ({type(exc).__name__}: {exc})") from exc


def _xlsx(path: Path) -> Book:
    import openpyxl

    computed = openpyxl.load_workbook(path, data_only=True)
    styled = openpyxl.load_workbook(path, data_only=False)
    values: dict[str, dict[tuple[int, int], Any]] = {}
    formulas: dict[str, dict[tuple[int, int], str]] = {}
    for ws in computed.worksheets:
        values[ws.title] = {(c.row, c.column): _normal(c.value) for row in ws.iter_rows() for c in row
                            if _normal(c.value) is not None}
    for ws in styled.worksheets:
        formulas[ws.title] = {(c.row, c.column): str(c.value) for row in ws.iter_rows() for c in row
                              if c.data_type == "f" or (isinstance(c.value, str) and c.value.startswith("="))}
    return Book(path, computed.sheetnames, values, formulas, styled)


def _q(prefix: str, name: str) -> str:
    return f"{{{_NS[prefix]}}}{name}"


def ods_formula(formula: str) -> str:
    """OpenFormula (``of:=SUM([.A1:.A5])``) to the usual form (``=SUM(A1:A5)``)."""
    text = formula[3:] if formula.startswith("of:") else formula

    def ref(match: re.Match[str]) -> str:
        parts = []
        for part in match.group(1).split(":"):
            sheet, _, cell = part.rpartition(".")
            sheet = sheet.lstrip("$").strip("'")
            parts.append(f"{sheet}!{cell}" if sheet else cell)
        return ":".join(parts)

    return re.sub(r"\[([^\]]*)\]", ref, text)


def _ods_value(cell: ElementTree.Element) -> Any:
    kind = cell.get(_q("office", "value-type"))
    if kind in ("float", "percentage", "currency"):
        return float(cell.get(_q("office", "value"), "nan"))
    if kind == "boolean":
        return cell.get(_q("office", "boolean-value")) == "true"
    if kind == "date":
        return cell.get(_q("office", "date-value"))
    if kind == "time":
        return cell.get(_q("office", "time-value"))
    if kind == "string" and cell.get(_q("office", "string-value")) is not None:
        return cell.get(_q("office", "string-value"))
    paragraphs = ["".join(p.itertext()) for p in cell.findall("text:p", _NS)]
    return "\n".join(paragraphs) if paragraphs else None


def _ods(path: Path, content: bytes) -> Book:
    root = ElementTree.fromstring(content)
    tables = root.findall(".//office:spreadsheet/table:table", _NS)
    if root.tag not in (_q("office", "document-content"), _q("office", "document")) or not tables:
        raise SheetError(f"{path.name}: not an OpenDocument spreadsheet")
    names: list[str] = []
    values: dict[str, dict[tuple[int, int], Any]] = {}
    formulas: dict[str, dict[tuple[int, int], str]] = {}
    for table in tables:
        name = table.get(_q("table", "name"), f"Sheet{len(names) + 1}")
        names.append(name)
        cells: dict[tuple[int, int], Any] = {}
        found: dict[tuple[int, int], str] = {}
        row = 0
        for row_el in table.iter(_q("table", "table-row")):
            row_repeat = int(row_el.get(_q("table", "number-rows-repeated"), "1"))
            row_cells: list[tuple[int, Any, str | None]] = []
            col = 0
            for cell in row_el:
                if cell.tag not in (_q("table", "table-cell"), _q("table", "covered-table-cell")):
                    continue
                repeat = int(cell.get(_q("table", "number-columns-repeated"), "1"))
                value = _normal(_ods_value(cell))
                formula = cell.get(_q("table", "formula"))
                if value is not None or formula:
                    for k in range(min(repeat, _MAX_REPEAT)):
                        row_cells.append((col + k + 1, value, ods_formula(formula) if formula else None))
                col += repeat
            for r in range(min(row_repeat, _MAX_REPEAT) if row_cells else 0):
                for c, value, formula in row_cells:
                    if value is not None:
                        cells[(row + r + 1, c)] = value
                    if formula:
                        found[(row + r + 1, c)] = formula
            row += row_repeat
        values[name] = cells
        formulas[name] = found
    return Book(path, names, values, formulas)
