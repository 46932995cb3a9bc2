"""OSWorld metrics on real files: text, lists, CSV and spreadsheets (openpyxl- and LibreOffice-written)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Font, PatternFill

from steadyhand.environments.desktop.osworld import UnsupportedTask, metrics
from steadyhand.environments.desktop.osworld.components import find
from steadyhand.environments.desktop.osworld.metrics import general, table
from steadyhand.environments.desktop.osworld.metrics.sheets import SheetError, ods_formula, open_book


def _file(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_every_required_metric_is_registered() -> None:
    for name in ("exact_match", "check_include_exclude", "compare_text_file", "file_contains", "check_list",
                 "is_in_list", "fuzzy_match", "compare_csv", "compare_table", "infeasible", "check_line_number"):
        assert find(metrics, name) is not None, name
    assert find(metrics, "compare_pptx_files") is None


def test_literal_metrics() -> None:
    assert general.exact_match("100\n", {"expected": "100\n"}) == 1.0
    assert general.exact_match("100", {"expected": "100\n"}) == 0.0
    assert general.check_include_exclude("a b c", {"include": ["a", "c"], "exclude": ["z"]}) == 1.0
    assert general.check_include_exclude("a b z", {"include": ["a"], "exclude": ["z"]}) == 0.0
    assert general.check_include_exclude(None, {"include": []}) == 0.0
    assert general.is_in_list(["x", "y"], {"expected": "y"}) == 1.0
    assert general.is_in_list(["x"], {"expected": "y"}) == 0.0
    assert general.is_in_list(None, {"expected": "y"}) == 0.0
    assert general.match_in_list("y", {"expected": ["x", "y"]}) == 1.0
    assert general.fuzzy_match("kitten", {"expected": "kitten"}) == 1.0
    assert general.fuzzy_match("kitten", {"expected": "sitting"}) == pytest.approx(0.615, abs=0.01)
    assert general.fuzzy_match(None, {"expected": "x"}) == 0.0
    assert general.literal_match(["A", "b"], ["a", "B"], type="list", ignore_case=True) == 1.0
    assert general.literal_match("A", "a") == 0.0


def test_text_file_metrics(tmp_path: Path) -> None:
    result = _file(tmp_path / "r.txt", "Hello  World\nsecond line 12:30:01\n")
    assert general.compare_text_file(result, _file(tmp_path / "e.txt", "Hello  World\nsecond line 12:30:01\n")) == 1
    loose = _file(tmp_path / "e2.txt", "hello world second   line 12:30:01")
    assert general.compare_text_file(result, loose) == 0.0
    assert general.compare_text_file(result, loose, ignore_blanks=True, ignore_case=True) == 1.0
    assert general.compare_text_file(None, loose) == 0.0
    assert general.compare_text_file(str(tmp_path / "missing"), loose) == 0.0
    assert general.file_contains(result, {"expected": ["Hello", "second"]}) == 1.0
    assert general.file_contains(result, {"expected": ["Hello", "third"]}) == 0.0
    assert general.file_contains(result, {"expected": "World"}) == 1.0
    assert general.check_line_number(result, {"expected": "1"}) == 1.0
    assert general.check_line_number(result, {"expected": "2"}) == 0.0
    assert general.check_list(result, {"expect": [r"^Hello", r"\d\d:\d\d"], "unexpect": ["third"]}) == 1.0
    assert general.check_list(result, {"expect": [r"^second"], "unexpect": [r"World$"]}) == 0.0
    assert general.diff_text_file(result, result) == 1.0


def test_compare_csv(tmp_path: Path) -> None:
    result = _file(tmp_path / "r.csv", "Name,Total\nAda,3\n")
    assert table.compare_csv(result, _file(tmp_path / "e.csv", "Name,Total\nAda,3\n")) == 1.0
    spaced = _file(tmp_path / "spaced.csv", "name,total \n ada,3\n")
    assert table.compare_csv(result, spaced) == 0.0
    assert table.compare_csv(result, spaced, strict=False, ignore_case=True) == 1.0
    assert table.compare_csv(result, [str(tmp_path / "missing.csv"), str(tmp_path / "e.csv")]) == 1.0
    assert table.compare_csv(None, str(tmp_path / "e.csv")) == 0.0


def test_match_value_to_rule() -> None:
    rule = table.match_value_to_rule
    assert rule(150.0, {"method": "eq", "ref": 150})
    assert rule(3, {"method": "lt", "ref": 4}) and not rule("a", {"method": "lt", "ref": 4})
    assert rule("=SUM(A1:A5)", {"method": "re.I", "ref": r"^=sum\("})
    assert rule("2.004", {"method": "approx:0.01", "ref": 2}) and not rule("x", {"method": "approx:1", "ref": 2})
    assert rule("a, b", {"method": "str_list_eq", "ref": ["a", "b"]})
    assert rule("b,a", {"method": "str_set_eq", "ref": ["a", "b"]})
    with pytest.raises(UnsupportedTask, match="rule method 'between'"):
        rule(1, {"method": "between", "ref": [0, 2]})


def _xlsx(path: Path) -> str:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Budget"
    ws.append(["Item", "Cost"])
    ws.append(["Rent", 1200])
    ws.append(["Food", 300.123456])
    ws["B4"] = "=SUM(B2:B3)"
    ws["A1"].font = Font(bold=True, name="Arial")
    ws["B2"].fill = PatternFill(fill_type="solid", fgColor="FFFF0000")
    wb.create_sheet("Notes")["A1"] = "Rd 5"
    wb.save(path)
    return str(path)


def test_compare_table_rules_on_openpyxl_books(tmp_path: Path) -> None:
    result, expected = _xlsx(tmp_path / "r.xlsx"), _xlsx(tmp_path / "e.xlsx")
    same = [{"type": "sheet_name"}, {"type": "sheet_data", "sheet_idx0": 0, "sheet_idx1": "EI0"},
            {"type": "sheet_data", "sheet_idx0": "RNNotes", "sheet_idx1": "ENNotes"}]
    assert table.compare_table(result, expected, rules=same) == 1.0
    cell = {"type": "check_cell", "sheet_idx": 0, "coordinate": "B4",
            "props": {"formula": {"method": "re", "ref": r"^=SUM\(B2:B3\)$"}}}
    style = {"type": "check_cell", "sheet_idx": "RNBudget", "coordinate": "A1",
             "props": {"font_bold": {"method": "eq", "ref": True}, "font_name": {"method": "eq", "ref": "Arial"},
                       "value": {"method": "eq", "ref": "Item"}}}
    fill = {"type": "check_cell", "sheet_idx": 0, "coordinate": "B2",
            "props": {"fill_type": {"method": "eq", "ref": "solid"}, "fgcolor": {"method": "eq", "ref": "FFFF0000"}}}
    assert table.compare_table(result, rules=[cell, style, fill]) == 1.0
    wrong_font = {**style, "props": {"font_italic": {"method": "eq", "ref": True}}}
    assert table.compare_table(result, rules=[cell, wrong_font]) == 0.0
    fuzzy = {"type": "sheet_fuzzy", "sheet_idx0": "RNNotes", "sheet_idx1": "ENNotes",
             "rules": [{"range": ["A1:A1"], "type": "exact_match", "normalization": [["Rd", "Road"]]}]}
    assert table.compare_table(result, expected, rules=[fuzzy]) == 1.0
    # a changed value breaks sheet_data, but not below the precision
    wb = openpyxl.load_workbook(result)
    wb["Budget"]["B3"] = 300.12349
    wb.save(result)
    assert table.compare_table(result, expected, rules=[{**same[1], "precision": 3}]) == 1.0
    assert table.compare_table(result, expected, rules=[{**same[1], "precision": 5}]) == 0.0


def test_compare_table_failures_score_zero_or_are_unsupported(tmp_path: Path) -> None:
    expected = _xlsx(tmp_path / "e.xlsx")
    rules = [{"type": "sheet_data", "sheet_idx0": 0, "sheet_idx1": "EI0"}]
    assert table.compare_table(None, expected, rules=rules) == 0.0
    assert table.compare_table(str(tmp_path / "missing.xlsx"), expected, rules=rules) == 0.0
    garbage = _file(tmp_path / "garbage.xlsx", "not a workbook")
    assert table.compare_table(garbage, expected, rules=rules) == 0.0
    assert table.compare_table(expected, expected, rules=[{**rules[0], "sheet_idx1": "ENNoSuchSheet"}]) == 0.0
    with pytest.raises(UnsupportedTask, match="compare_table rule 'pivot_table'"):
        table.compare_table(expected, expected, rules=[{"type": "pivot_table"}])


FODS = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
  xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
  xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
  xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2"
  office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
 <office:body><office:spreadsheet>
  <table:table table:name="Scores">
   <table:table-row><table:table-cell office:value-type="string"><text:p>Name</text:p></table:table-cell>
    <table:table-cell office:value-type="string"><text:p>Points</text:p></table:table-cell></table:table-row>
   <table:table-row table:number-rows-repeated="2"><table:table-cell office:value-type="string"><text:p>x</text:p>
    </table:table-cell><table:table-cell office:value-type="float" office:value="7"/></table:table-row>
   <table:table-row><table:table-cell table:number-columns-repeated="1"/><table:table-cell
     table:formula="of:=SUM([.B2:.B3])" office:value-type="float" office:value="14"/></table:table-row>
   <table:table-row table:number-rows-repeated="1048571"><table:table-cell table:number-columns-repeated="1024"/>
   </table:table-row>
  </table:table>
 </office:spreadsheet></office:body>
</office:document>
"""


def test_flat_ods_values_formulas_and_repeats(tmp_path: Path) -> None:
    path = _file(tmp_path / "s.fods", FODS)
    book = open_book(path)
    assert book.sheet_names == ["Scores"]
    assert book.grid("Scores") == [["Name", "Points"], ["x", 7.0], ["x", 7.0], [None, 14.0]]
    assert book.formula("Scores", "B4") == "=SUM(B2:B3)"
    assert book.formula("Scores", "B3") is None
    rule = {"type": "check_cell", "sheet_idx": 0, "coordinate": "B4",
            "props": {"value": {"method": "eq", "ref": 14}, "formula": {"method": "eq", "ref": "=SUM(B2:B3)"}}}
    assert table.compare_table(path, rules=[rule]) == 1.0
    with pytest.raises(SheetError, match=r"only be read from \.xlsx"):
        book.style("Scores", "A1", "font_bold")
    assert ods_formula("of:=[Sheet2.A1]+['My sheet'.$B$2:.C3]") == "=Sheet2!A1+My sheet!$B$2:C3"


@pytest.mark.slow
def test_files_saved_by_libreoffice(tmp_path: Path) -> None:
    """LibreOffice writes the cached formula results that compare_table reads, in .xlsx and .ods."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    source = _file(tmp_path / "s.fods", FODS)
    env = {**os.environ, "HOME": str(tmp_path)}
    for fmt in ("xlsx", "ods"):
        proc = subprocess.Popen([soffice, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                                 "--norestore", "--convert-to", fmt, "--outdir", str(tmp_path), source], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            out, _ = proc.communicate(timeout=240)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        saved = tmp_path / f"s.{fmt}"
        assert saved.is_file(), out
        rules = [{"type": "check_cell", "sheet_idx": "RNScores", "coordinate": "B4",
                  "props": {"value": {"method": "eq", "ref": 14}, "formula": {"method": "re", "ref": r"^=SUM\("}}},
                 {"type": "sheet_data", "sheet_idx0": 0, "sheet_idx1": "EI0"}]
        assert table.compare_table(str(saved), source, rules=rules) == 1.0, fmt
        assert table.compare_table(str(saved), source, rules=[{**rules[0], "coordinate": "B3"}]) == 0.0
