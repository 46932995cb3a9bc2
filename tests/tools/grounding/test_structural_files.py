"""The structural expert on .xlsx files with openpyxl (UNO inside a desktop: test_desktop.py)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from steadyhand.core.errors import ConfigurationError
from steadyhand.core.observation import Observation
from steadyhand.tools.grounding import CellTarget, GroundingError, GroundingRequest, Router
from steadyhand.tools.grounding.experts.structural import StructuralExpert, cell_index, normalise_cells


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "budget.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Summary"
    wb.create_sheet("Data")
    wb.save(path)
    return path


def request(path: Path, cells: object, sheet: str | None = "Data") -> GroundingRequest:
    return GroundingRequest(action="set_cell_values", context={"cells": cells, "sheet": sheet, "path": str(path)})


def test_cell_references() -> None:
    assert cell_index("A1") == (0, 0)
    assert cell_index("$AB$12") == (27, 11)
    assert normalise_cells({"b2": 1, "$C$3": "=B2*2", "D4": None}) == {"B2": 1, "C3": "=B2*2", "D4": None}
    for bad in ({"1A": 1}, {"A0": 1}, {}, {"A1": [1, 2]}, "A1=1"):
        with pytest.raises(GroundingError):
            normalise_cells(bad)


def test_ground_then_apply_writes_the_file(book: Path) -> None:
    expert = StructuralExpert("openpyxl")
    result = expert.ground(request(book, {"a1": 3, "B1": "=A1*2", "C1": "total"}), Observation())
    assert isinstance(result.target, CellTarget)
    assert result.target.sheet == "Data" and result.target.cells == {"A1": 3, "B1": "=A1*2", "C1": "total"}
    assert openpyxl.load_workbook(book)["Data"]["A1"].value is None  # grounding writes nothing
    expert.apply(result.target, Observation(), path=str(book))
    sheet = openpyxl.load_workbook(book)["Data"]
    assert (sheet["A1"].value, sheet["B1"].value, sheet["C1"].value) == (3, "=A1*2", "total")


def test_unknown_sheet_and_bad_files_are_misses(book: Path, tmp_path: Path) -> None:
    expert = StructuralExpert()
    with pytest.raises(GroundingError, match="no sheet 'Nope'; sheets: Summary, Data"):
        expert.ground(request(book, {"A1": 1}, sheet="Nope"), Observation())
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(GroundingError, match=r"not a readable \.xlsx"):
        expert.ground(request(broken, {"A1": 1}), Observation())
    with pytest.raises(GroundingError, match="no desktop to ask"):
        expert.ground(GroundingRequest(action="set_cell_values", context={"cells": {"A1": 1}}), Observation())
    with pytest.raises(ConfigurationError, match="auto, uno or openpyxl"):
        StructuralExpert("excel")


def test_router_sends_cell_requests_to_the_structural_expert(book: Path) -> None:
    router = Router.from_specs({"structural": "auto", "accessibility": ""})
    routed = router.ground(request(book, {"A2": 5}), Observation())
    assert [d["expert"] for d in routed.decisions] == ["structural"]
    assert routed.require().target.model_dump()["cells"] == {"A2": 5}
