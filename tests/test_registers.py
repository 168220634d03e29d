"""Local registers: templates, real-world formats, every bad-input case, the folder's rules."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from sources.registers.folder import check_file, folder_status, register_of, take_register
from sources.registers.layouts import ANSOKNINGAR, BEREDSKAP, MAL, REGISTERS, STOD
from sources.registers.parse import Known, as_table
from sources.registers.templates import write_templates

INDICATORS = ["N15428", "N07403", "lupp_skola_negativ_forhojd_risk"]
STOD_HEADER = ";".join(STOD.headers)


@pytest.fixture(scope="module")
def known(kommuner):
    return Known.of(kommuner, INDICATORS)


def csv(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def stod_line(kommun="0580", start="2025-01-15", end="2025-12-31", amount="150 000", factor="Föräldraskap",
              contact="Anna Andersson") -> str:
    return ";".join(["Länsstyrelsen Östergötland", "Länsstyrelsen", kommun, "Föräldraskapsstöd", factor, "",
                     "Ekonomiskt stöd", start, end, amount, "ABC i förskolan", contact, "anna@lst.se"])


def problems_of(parsed) -> list[tuple]:
    return [(r["row"], r["column"], r["kind"]) for r in parsed.problems.iter_rows(named=True)]


def test_templates_read_cleanly_and_are_byte_identical(tmp_path, known):
    written = write_templates(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{n}_mall{s}" for n in REGISTERS for s in (".xlsx", ".csv"))
    first = {p.name: p.read_bytes() for p in written}
    for path in written:
        parsed = check_file(path, REGISTERS[register_of(path.name)], known)
        assert parsed.problems.height == 0, parsed.problems.to_dicts()
        assert parsed.frame.height == 1
    assert {p.name: p.read_bytes() for p in write_templates(tmp_path)} == first


def test_windows_1252_semicolons_decimal_commas_and_kommun_as_excel_saves_it(tmp_path, known):
    path = csv(tmp_path / "stod_2025.csv", [STOD_HEADER, stod_line(kommun="580", amount="150 000,50 kr"),
                                            stod_line(kommun="Linköpings kommun", amount="")], "cp1252")
    parsed = check_file(path, STOD, known)
    assert parsed.problems.height == 0
    frame = parsed.frame
    assert frame["area_code"].to_list() == ["0580", "0580"]
    assert frame["amount_sek"].to_list() == [150000.5, None]
    assert frame["factor"].to_list() == ["foraldraskap"] * 2 and frame["support_type"][0] == "ekonomiskt_stod"
    assert frame["start"][0] == date(2025, 1, 15) and frame["source_row"].to_list() == [2, 3]
    # Personal data are never read.
    assert "contact" not in frame.columns and "email" not in frame.columns
    assert "Anna" not in str(frame.to_dicts())


def test_xlsx_with_a_title_row_keeps_the_sheet_row_numbers(tmp_path, known):
    path = tmp_path / "beredskap_2025.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write(1, 0, "Beredskapsbedömning Linköping 2025")  # row 2; row 1 is empty
    sheet.write_row(3, 0, BEREDSKAP.headers)                  # header on row 4
    for r, score in ((4, 4), (6, 12)):                        # rows 5 and 7 (row 6 is blank)
        sheet.write_row(r, 0, ["B1", "0580", "2025-03-15", "Våld bland unga", "", str(r), "Skola"] + [score] * 18)
    book.close()
    parsed = check_file(path, BEREDSKAP, known)
    assert parsed.frame["source_row"].to_list() == [5, 7]
    rows = {(r, c) for r, c, k in problems_of(parsed) if k == "out_of_range"}
    assert (7, "A konsensus") in rows and (7, "F bedömare 1") in rows and len(rows) == 18
    assert "poängen 12 ligger utanför skalan 1–9" in parsed.problems["message"][0]


@pytest.mark.parametrize("line, where, kind, text", [
    (stod_line(kommun="9999"), (2, "Kommunkod"), "unknown_kommun", "kommunkoden 9999 finns inte"),
    (stod_line(start="2025-06-01", end="2025-01-01"), (2, "Slutdatum"), "date_order",
     "slutdatum 2025-01-01 är före startdatum 2025-06-01"),
    (stod_line(start="15/3/2025"), (2, "Startdatum"), "bad_value", "skriv ÅÅÅÅ-MM-DD"),
    (stod_line(amount="mycket"), (2, "Belopp (kr)"), "bad_value", "'mycket' är inget tal"),
    (stod_line(amount="-5"), (2, "Belopp (kr)"), "out_of_range", "negativt"),
    (stod_line(factor="Skolgården"), (2, "Strategisk faktor"), "bad_value", "inte ett tillåtet värde"),
    (stod_line(factor=""), (2, "Strategisk faktor"), "missing_value", "Preventionsstjärnan"),
    (stod_line(kommun=""), (2, "Kommunkod"), "missing_value", "ska fyllas i"),
])
def test_each_bad_support_cell_is_named(tmp_path, known, line, where, kind, text):
    parsed = check_file(csv(tmp_path / "stod.csv", [STOD_HEADER, line]), STOD, known)
    assert (*where, kind) in problems_of(parsed)
    message = parsed.problems.filter(pl.col("kind") == kind)["message"][0]
    assert text in message
    assert "Anna" not in str(parsed.problems.to_dicts())


def test_unknown_indicator_and_goal_rules(tmp_path, known):
    head = ";".join(MAL.headers)
    rows = [";".join(["0580", "Plan", "", "Mål", "N15482", "", "", "öka", "2022", "från data", "90", "2027"]),
            ";".join(["0580", "Plan", "", "Mål 2", "N15428", "Flickor", "", "öka", "2022", "", "90", "2020"]),
            ";".join(["0580", "Plan", "", "Mål 3", "N07403", "", "", "minska", "2022", "500", "600", "2026"])]
    parsed = check_file(csv(tmp_path / "mal.csv", [head, *rows]), MAL, known)
    assert problems_of(parsed) == [(2, "Indikator", "unknown_indicator"), (3, "Målår", "date_order"),
                                   (4, "Målvärde", "inconsistent")]
    assert "menade du N15428?" in parsed.problems["message"][0]
    assert parsed.frame["sex"].to_list() == ["T", "K", "T"] and parsed.frame["baseline_value"][0] is None


def test_missing_column_and_call_rules(tmp_path, known):
    bad = check_file(csv(tmp_path / "stod.csv", ["Aktör;Kommunkod", "X;0580"]), STOD, known)
    assert (1, "Aktörstyp", "missing_column") in problems_of(bad)
    head = ",".join(ANSOKNINGAR.headers)
    rows = ["C1,Utlysning,\"Skola, Föräldraskap och familjens villkor\",Processtöd,,,,,,0580,2025-02-01,,",
            "C1,Utlysning,Fritid,Processtöd,,,,,,0581,2025-02-02,,",
            "C1,Utlysning,\"Skola, Föräldraskap\",Processtöd,,,,,,0580,2025-02-03,,"]
    parsed = check_file(csv(tmp_path / "ansokningar.csv", [head, *rows]), ANSOKNINGAR, known)
    assert problems_of(parsed) == [(3, "Strategiska faktorer", "inconsistent"), (4, "Kommunkod", "duplicate_row")]
    assert parsed.frame["factors"][0] == "skola,foraldraskap"


def test_a_bad_file_is_set_aside_and_its_last_accepted_version_counts(tmp_path, known):
    folder = tmp_path / "registers"
    folder.mkdir()
    good = csv(folder / "stod_lst.csv", [STOD_HEADER, stod_line(), stod_line(kommun="0581")])
    first = take_register(folder, STOD, known)
    assert [o.status for o in first.outcomes] == ["accepted"] and first.frame.height == 2
    # The county saves a broken version over it.
    csv(good, [STOD_HEADER, stod_line(kommun="9999"), stod_line(start="2025-06-01", end="2025-01-01")])
    second = take_register(folder, STOD, known)
    assert [o.status for o in second.outcomes] == ["previous_version"]
    assert second.frame["area_code"].to_list() == ["0580", "0581"]       # the last accepted rows
    assert not good.exists() and (folder / "quarantine" / "stod_lst.csv").exists()
    report = (folder / "quarantine" / "stod_lst.csv.problems.md").read_text(encoding="utf-8")
    assert "stod_lst.csv, rad 2, kolumn Kommunkod: kommunkoden 9999 finns inte" in report
    assert "rad 3, kolumn Slutdatum: slutdatum 2025-01-01 är före startdatum 2025-06-01" in report
    # The next run (file gone to quarantine) still counts the accepted version and still fails.
    third = take_register(folder, STOD, known)
    assert [o.status for o in third.outcomes] == ["previous_version"] and third.frame.height == 2
    assert third.problems.height == 2
    status = folder_status(folder)
    assert status.row(0, named=True)["status_label"].startswith("I karantän – den senast godkända")
    # A corrected file is accepted; once the county removes it, it no longer counts.
    csv(folder / "stod_lst.csv", [STOD_HEADER, stod_line(kommun="0582")])
    assert [o.status for o in take_register(folder, STOD, known).outcomes] == ["accepted"]
    (folder / "stod_lst.csv").unlink()
    gone = take_register(folder, STOD, known)
    assert [o.status for o in gone.outcomes] == ["removed"] and gone.frame.height == 0
    assert "Norrköping" not in gone.warnings["message"][0]
    assert "filen är borttagen ur registermappen; dess rader för Söderköping (0582)" in gone.warnings["message"][0]
    assert take_register(folder, STOD, known).outcomes == []           # said once


def test_first_bad_file_counts_nothing_and_strangers_are_listed(tmp_path, known):
    folder = tmp_path / "registers"
    folder.mkdir()
    csv(folder / "beredskap.csv", ["Kommunkod;Frågan", "0580;x"])
    (folder / "anteckningar.txt").write_text("inte ett register", encoding="utf-8")
    (folder / "mal_2025.ods").write_bytes(b"PK")
    target = folder / "stod_elsewhere.csv"
    os.symlink(csv(tmp_path / "outside.csv", [STOD_HEADER, stod_line()]), target)
    read = take_register(folder, BEREDSKAP, known)
    assert [o.status for o in read.outcomes] == ["quarantined"] and read.frame.height == 0
    assert take_register(folder, MAL, known).problems["message"][0].startswith("filtypen .ods stöds inte")
    assert take_register(folder, STOD, known).outcomes == []  # a symlink is not followed
    status = {r["file"]: r["status"] for r in folder_status(folder).iter_rows(named=True)}
    assert status == {"anteckningar.txt": "unknown_register", "beredskap.csv": "quarantined",
                      "mal_2025.ods": "quarantined"}


def test_file_names_say_the_register():
    assert register_of("stöd_2025.xlsx") == "stod" and register_of("Mål-plan.csv") == "mal"
    assert register_of("ansökningar 2025.CSV") == "ansokningar" and register_of("beredskap.xlsx") == "beredskap"
    assert register_of("malmo.csv") is None and register_of("stodregister.xlsx") is None


def test_readiness_is_stored_long_with_an_assessment_id(tmp_path, known):
    write_templates(tmp_path)
    parsed = check_file(tmp_path / "mallar" / "beredskap_mall.xlsx", BEREDSKAP, known)
    table = as_table(BEREDSKAP, parsed.frame)
    assert table.height == 6 and table["dimension"].to_list() == list("ABCDEF")
    assert table["assessment_id"].unique().to_list() == ["0580-2025-1"]
    assert table.row(0, named=True)["consensus"] == 4.25


def test_demo_registers_read_cleanly_are_stable_and_leave_in_live_mode(tmp_path, kommuner):
    from sources.demo.registers import DEMO_FILES, remove_demo_registers, write_demo_registers
    from sources.demo.world import DemoWorld

    world = DemoWorld.build(kommuner, [], list(range(2015, 2026)))
    facts = pl.DataFrame({"indicator_id": ["N15428"] * 2, "area_code": ["0580", "0581"],
                          "area_type": ["kommun"] * 2, "period": [2020, 2020], "sex": ["T"] * 2,
                          "breakdown": ["all"] * 2, "value": [80.0, 85.0]})
    indicators = pl.DataFrame({"indicator_id": ["N15428"], "polarity": ["high_is_good"]})
    folder = tmp_path / "registers"
    written = write_demo_registers(folder, world, kommuner, facts, indicators)
    assert [p.name for p in written] == list(DEMO_FILES)
    known = Known.of(kommuner, [*INDICATORS, "N31807", "lupp_skola_positiv_hogt_skydd"])
    reads = {name: take_register(folder, layout, known) for name, layout in REGISTERS.items()}
    assert all(not r.failed and r.frame.height > 0 for r in reads.values())
    stages = as_table(BEREDSKAP, reads["beredskap"].frame)
    assert stages["area_code"].n_unique() == 41  # two kommuner in each län, Gotland has one
    assert reads["ansokningar"].frame["call_id"].n_unique() == 21
    stamps = {p.name: p.stat().st_mtime_ns for p in written}
    write_demo_registers(folder, world, kommuner, facts, indicators)
    assert {p.name: p.stat().st_mtime_ns for p in written} == stamps  # same bytes: not rewritten
    assert sorted(p.name for p in remove_demo_registers(folder)) == sorted(DEMO_FILES)
    assert not any((folder / name).exists() for name in DEMO_FILES)
