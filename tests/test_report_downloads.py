"""Downloads: Swedish CSV and XLSX per county and kommun, safe to open in a spreadsheet."""

from __future__ import annotations

import io
from dataclasses import replace

import polars as pl
import pytest

from reports.downloads import FOLDER, csv_bytes, neutralise, wide_table, xlsx_bytes
from reports.labels import COMPARISON, RANK_BAND, TREND
from reports.model import SiteData
from reports.render import ReportContext, render_downloads

CTX = ReportContext(run_id="r", data_label="Demodata – syntetiska värden", is_demo=True, fetched="2026-11-23")


@pytest.fixture(scope="module")
def folder(site_marts, tmp_path_factory):
    out = tmp_path_factory.mktemp("dl")
    render_downloads(site_marts, out, CTX, workers=2)
    return out / FOLDER


def read_csv(path) -> pl.DataFrame:
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode())
    return pl.read_csv(io.BytesIO(raw[3:]), separator=";", decimal_comma=True, infer_schema_length=0)


def test_a_csv_and_an_xlsx_per_county_and_kommun(folder):
    names = {p.name for p in folder.iterdir()}
    for stem in ("lan-05-ostergotlands-lan", "lan-09-gotlands-lan", "kommun-0580-linkoping",
                 "kommun-0980-gotland"):
        assert {f"{stem}.csv", f"{stem}.xlsx"} <= names
    assert len([n for n in names if n.endswith(".xlsx")]) == 3 + 20


def test_csv_is_swedish_with_titles_and_labels(folder):
    text = (folder / "kommun-0580-linkoping.csv").read_bytes().decode("utf-8-sig")
    header = text.splitlines()[0].split(";")
    assert header[:4] == ["Område", "Områdeskod", "Områdestyp", "Indikator"]
    assert "Jämfört med riket" in header and "Värde 2019" in header and "Värde 2025" in header
    frame = read_csv(folder / "kommun-0580-linkoping.csv")
    assert set(frame["Område"]) == {"Linköping"}
    assert "Elever i åk 9 som uppnått kunskapskraven i alla ämnen, hemkommun, andel (%)" in set(frame["Indikator"])
    codes = set(COMPARISON) | set(RANK_BAND) | set(TREND) | {"ok", "suppressed", "kommun", "skola"}
    for column in ("Jämfört med riket", "Relativ position bland kommunerna", "Trend (fem senaste åren)",
                   "Status", "Områdestyp", "Strategisk faktor", "Kön"):
        assert not set(frame[column].drop_nulls()) & codes, column
    assert {"Kommun"} == set(frame["Områdestyp"]) and "Flickor/kvinnor" in set(frame["Kön"])
    # decimal comma and semicolons: 75,x % parses back as a number
    assert frame.filter(pl.col("Indikatorns id") == "N15508")["Värde"].str.replace(",", ".").cast(pl.Float64).is_not_null().any()
    assert ";" in text.splitlines()[1] and "," in text.splitlines()[1]


def test_county_file_holds_riket_lan_subregions_and_kommuner(folder):
    frame = read_csv(folder / "lan-05-ostergotlands-lan.csv")
    assert {"Riket", "Län", "Delregion", "Kommun", "Alla svarande i enkäten"} == set(frame["Områdestyp"])
    assert "Halmstad" not in set(frame["Område"])
    hidden = frame.filter((pl.col("Område") == "Ydre") & (pl.col("Indikatorns id") == "N33813")
                          & (pl.col("Kön") == "Totalt"))
    assert hidden["Värde"].to_list() == [None] and hidden["Status"].to_list() == ["Dolt"]
    assert hidden["Orsak"].to_list() == ["Kolada: dolt av sekretesskäl"]   # no English status code
    # every row has its year and status, also an area without a row for the latest year
    assert frame["År"].null_count() == 0 and frame["Status"].null_count() == 0


def test_an_area_without_the_latest_year_says_missing(site_marts, tmp_path):
    facts = site_marts.facts.filter(~((pl.col("area_code") == "0512") & (pl.col("indicator_id") == "N15508")
                                      & (pl.col("period") == 2025)))
    render_downloads(replace(site_marts, facts=facts), tmp_path, CTX, workers=1)
    frame = read_csv(tmp_path / FOLDER / "kommun-0512-ydre.csv").filter(
        (pl.col("Indikatorns id") == "N15508") & (pl.col("Kön") == "Totalt"))
    assert frame.select("År", "Status", "Orsak", "Värde", "Värde 2024").rows()[0][:4] == (
        "2025", "Saknas", "Källan har inget värde för året", None)
    assert frame["Värde 2024"][0] is not None


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_like_cells_are_neutralised(start):
    frame = neutralise(pl.DataFrame({"Område": [f"{start}HYPERLINK(\"x\")", "Linköping"], "Värde": [-1.0, 2.0]}))
    assert frame["Område"].to_list() == [f"'{start}HYPERLINK(\"x\")", "Linköping"]
    assert frame["Värde"].to_list() == [-1.0, 2.0]  # numbers stay numbers


def test_a_formula_in_a_name_reaches_neither_file_as_a_formula(site_marts, tmp_path):
    areas = site_marts.areas.with_columns(area_name=pl.when(pl.col("area_code") == "0580")
                                     .then(pl.lit("=1+1")).otherwise("area_name"))
    render_downloads(replace(site_marts, areas=areas), tmp_path, CTX, workers=1)
    (csv_path,) = (tmp_path / FOLDER).glob("kommun-0580-*.csv")
    assert set(read_csv(csv_path)["Område"]) == {"'=1+1"}
    xlsx_path = csv_path.with_suffix(".xlsx")
    assert set(pl.read_excel(xlsx_path, sheet_name="Data")["Område"]) == {"'=1+1"}
    import zipfile
    with zipfile.ZipFile(xlsx_path) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()


def test_xlsx_has_the_same_rows_and_is_deterministic(folder):
    csv = read_csv(folder / "kommun-0580-linkoping.csv")
    xlsx = pl.read_excel(folder / "kommun-0580-linkoping.xlsx", sheet_name="Data")
    assert xlsx.columns == csv.columns and xlsx.height == csv.height
    # the same cells: text as text, numbers as the numbers the CSV writes (nulls stay empty)
    numbers = [c for c, t in xlsx.schema.items() if t.is_numeric()]
    assert "Värde" in numbers and "År" in numbers and "Område" not in numbers
    as_csv = csv.with_columns(pl.col(c).str.replace(",", ".").cast(pl.Float64) for c in numbers)
    assert xlsx.with_columns(pl.col(numbers).cast(pl.Float64)).equals(as_csv)
    about = pl.read_excel(folder / "kommun-0580-linkoping.xlsx", sheet_name="Om filen")
    assert "Demodata – syntetiska värden. Data hämtade 2026-11-23." in about["Förklaring"].to_list()
    frame = pl.DataFrame({"Område": ["A"], "Värde": [1.5]})
    assert xlsx_bytes(frame, "t", "l", "2026-11-23") == xlsx_bytes(frame, "t", "l", "2026-11-23")
    assert csv_bytes(frame) == "\ufeffOmråde;Värde\nA;1,5\n".encode()


def test_unchanged_files_are_not_rewritten(site_marts, tmp_path):
    render_downloads(site_marts, tmp_path, CTX, workers=1)
    files = sorted(p for p in (tmp_path / FOLDER).iterdir() if not p.name.startswith("."))
    before = {p: p.stat().st_mtime_ns for p in files}
    render_downloads(site_marts, tmp_path, CTX, workers=1)
    assert {p: p.stat().st_mtime_ns for p in files} == before


def test_each_workbook_is_the_workbook_of_its_own_rows(folder, site_marts):
    """Workbooks are written a county at a time from rows' XML made once for the county and
    its kommuner: each file is byte for byte the workbook made from its CSV's rows alone."""
    for stem, title in (("lan-05-ostergotlands-lan",
                         "Östergötlands län: kommuner, delregioner, länet och riket"),
                        ("kommun-0580-linkoping", "Linköping (Östergötlands län)")):
        rows = wide_table(SiteData(site_marts))
        codes = read_csv(folder / f"{stem}.csv")["Områdeskod"].unique(maintain_order=True).to_list()
        frame = pl.concat([rows.filter(pl.col("Områdeskod") == c) for c in codes])
        assert (folder / f"{stem}.xlsx").read_bytes() == xlsx_bytes(frame, title, CTX.data_label, CTX.fetched)
        assert (folder / f"{stem}.csv").read_bytes() == csv_bytes(frame)
