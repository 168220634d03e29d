"""The downloads' XLSX writer (reports/xlsx.py): what goes in comes back out of a reader."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import polars as pl
import pytest

from reports.xlsx import ROW_MARK, Sheet, column_letter, row_xml, workbook_bytes


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == \
        ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def frame() -> pl.DataFrame:
    return pl.DataFrame({
        "Område": ["Ånge & <Ö>", None, "  två blanksteg", "'=1+1", "styr\x01tecken"],
        "År": [2024, None, 2023, 1, -2],
        "Värde": [1.23456, None, float("nan"), 1e-7, -12345678.9],
        "Finns": [True, None, False, True, False],
    }, schema_overrides={"År": pl.Int32})


def test_values_round_trip_through_a_reader(tmp_path):
    path = tmp_path / "f.xlsx"
    path.write_bytes(workbook_bytes([Sheet("Data", frame(), {"Område": 30}, freeze=(1, 1)),
                                     Sheet("Om filen", pl.DataFrame({"Rubrik": ["a"]}), table=False)]))
    back = pl.read_excel(path, sheet_name="Data", drop_empty_rows=False)
    assert back.columns == ["Område", "År", "Värde", "Finns"]
    assert back["Område"].to_list() == ["Ånge & <Ö>", None, "  två blanksteg", "'=1+1", "styrtecken"]
    assert back["År"].to_list() == [2024, None, 2023, 1, -2]
    assert back["Värde"].to_list() == [1.23456, None, None, 1e-7, -12345678.9]  # NaN is empty
    assert back["Finns"].to_list() == [True, None, False, True, False]
    assert pl.read_excel(path, sheet_name="Om filen")["Rubrik"].to_list() == ["a"]


def test_the_data_sheet_is_a_table_with_a_frozen_header_and_text_never_a_formula():
    content = workbook_bytes([Sheet("Data", frame(), {"Område": 30}, freeze=(1, 1))],
                             title="Länet & riket", created=datetime(2026, 11, 23))
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        assert z.testzip() is None
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        table = z.read("xl/tables/table1.xml").decode()
        core = z.read("docProps/core.xml").decode()
        names = z.namelist()
    assert "<f>" not in sheet and "t=\"inlineStr\"" in sheet
    assert 'state="frozen"' in sheet and 'topLeftCell="B2"' in sheet
    assert '<col min="1" max="1" width="30.00" customWidth="1"/>' in sheet
    assert 'ref="A1:D6"' in table and 'name="Område"' in table and "TableStyleLight1" in table
    assert "<dc:title>Länet &amp; riket</dc:title>" in core and "2026-11-23T00:00:00Z" in core
    assert names[0] == "[Content_Types].xml"


def test_an_empty_frame_still_gives_a_valid_table(tmp_path):
    empty = pl.DataFrame(schema={"Område": pl.String, "Värde": pl.Float64})
    path = tmp_path / "empty.xlsx"
    path.write_bytes(workbook_bytes([Sheet("Data", empty)]))
    with zipfile.ZipFile(path) as z:
        assert 'ref="A1:B2"' in z.read("xl/tables/table1.xml").decode()  # a table needs a data row
    assert pl.read_excel(path, sheet_name="Data").columns == ["Område", "Värde"]


@pytest.mark.parametrize("seed", [1, 2])
def test_the_same_sheets_give_the_same_bytes(seed):
    data = pl.DataFrame({"a": [1.5, 2.5], "b": ["x", "y"]}).sample(fraction=1.0, seed=seed)
    assert workbook_bytes([Sheet("Data", data)]) == workbook_bytes([Sheet("Data", data.clone())])


def test_rows_made_beforehand_give_the_same_workbook_as_the_frame_alone():
    """The downloads make each row's XML once for a whole table and cut a workbook's rows from
    it (numbered per sheet): the bytes are those of the workbook made from its own rows."""
    table = pl.concat([frame()] * 3)
    xml = row_xml(table)
    cut = table.slice(4, 7)
    made = workbook_bytes([Sheet("Data", cut, {"Område": 30}, freeze=(1, 1), rows=xml.slice(4, 7))])
    assert made == workbook_bytes([Sheet("Data", cut, {"Område": 30}, freeze=(1, 1))])
    with zipfile.ZipFile(io.BytesIO(made)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert '<row r="2">' in sheet and '<row r="8">' in sheet and '<row r="9">' not in sheet
    assert 'r="A2"' in sheet and ROW_MARK not in sheet
