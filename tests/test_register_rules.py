"""Registers never lose accepted data, and say what to look at (issue 14, points 5, 7, 9).

Each case is a folder of small files in the real formats, read twice where the order of
events matters, as the county would drop them."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from sources.registers.actors import load_actor_aliases, short_name
from sources.registers.folder import DEMO_FILES, check_file, folder_status, take_register
from sources.registers.layouts import ANSOKNINGAR, BEREDSKAP, MAL, STOD
from sources.registers.parse import Known, as_table
from tests.test_registers import INDICATORS, STOD_HEADER, csv, problems_of, stod_line

CATALOG = Path(__file__).resolve().parent.parent / "data" / "catalog"


@pytest.fixture(scope="module")
def known(kommuner):
    return Known.of(kommuner, INDICATORS, load_actor_aliases(CATALOG / "actors.yaml", kommuner))


def goal_line(goal_id: str, kommun: str = "0581", text: str = "Fler behöriga", target: str = "90") -> str:
    return ";".join([kommun, "Handlingsplan", goal_id, text, "N15428", "", "", "öka", "2022", "från data",
                     target, "2027"])


MAL_HEADER = ";".join(MAL.headers)


def test_a_new_file_reusing_an_accepted_goal_id_is_set_aside_and_the_accepted_goals_count(tmp_path, known):
    folder = tmp_path / "registers"
    folder.mkdir()
    accepted = csv(folder / "mal_ostergotland.csv", [MAL_HEADER] + [goal_line(f"NKP-{i}") for i in range(1, 8)])
    assert take_register(folder, MAL, known).frame.height == 7
    # A one-row file that sorts before the accepted one and reuses NKP-1 with another goal.
    csv(folder / "mal_2025_nytt.csv", [MAL_HEADER, goal_line("NKP-1", text="Färre våldsbrott", target="95")])
    read = take_register(folder, MAL, known)
    status = {o.file: o.status for o in read.outcomes}
    assert status == {"mal_ostergotland.csv": "accepted", "mal_2025_nytt.csv": "quarantined"}
    assert sorted(read.frame["goal_id"].to_list()) == [f"NKP-{i}" for i in range(1, 8)]
    assert read.frame.filter(pl.col("goal_id") == "NKP-1")["goal_text"][0] == "Fler behöriga"
    message = read.problems["message"][0]
    assert "Mål-id finns redan med annat innehåll i den godkända filen mal_ostergotland.csv (rad 2)" in message
    report = (folder / "quarantine" / "mal_2025_nytt.csv.problems.md").read_text(encoding="utf-8")
    assert "mal_2025_nytt.csv, rad 2, kolumn Mål-id" in report and "mal_ostergotland.csv" in report
    assert accepted.exists() and not (folder / "mal_2025_nytt.csv").exists()
    # Later runs keep it that way (the accepted file is read first).
    again = take_register(folder, MAL, known)
    assert again.frame.height == 7 and {o.file: o.status for o in again.outcomes} == status


def test_the_same_goal_in_two_files_is_counted_once_with_a_warning(tmp_path, known):
    folder = tmp_path / "registers"
    folder.mkdir()
    csv(folder / "mal_a.csv", [MAL_HEADER, goal_line("G-1"), goal_line("G-2")])
    csv(folder / "mal_b.csv", [MAL_HEADER, goal_line("G-2"), goal_line("G-3")])
    read = take_register(folder, MAL, known)
    assert [o.status for o in read.outcomes] == ["accepted", "accepted"]
    assert sorted(read.frame["goal_id"].to_list()) == ["G-1", "G-2", "G-3"]
    warning = read.warnings.row(0, named=True)
    assert (warning["file"], warning["row"], warning["kind"]) == ("mal_b.csv", 2, "exact_duplicate")


def test_exact_duplicate_support_rows_are_reported_and_counted_once(tmp_path, known):
    path = csv(tmp_path / "stod_2025.csv", [STOD_HEADER, stod_line(), stod_line(kommun="0581"), stod_line()])
    parsed = check_file(path, STOD, known)
    assert parsed.problems.height == 0 and parsed.frame.height == 2
    assert parsed.warnings.select("row", "kind").rows() == [(4, "exact_duplicate")]
    assert "exakt kopia av rad 2; den räknas en gång" in parsed.warnings["message"][0]


def test_a_key_repeated_with_other_content_is_an_error(tmp_path, known):
    parsed = check_file(csv(tmp_path / "mal.csv", [MAL_HEADER, goal_line("G-1"),
                                                  goal_line("G-1", target="95")]), MAL, known)
    assert problems_of(parsed) == [(3, "Mål-id", "duplicate_row")]
    assert "samma Mål-id som rad 2 men annat innehåll" in parsed.problems["message"][0]


def test_a_replacement_that_drops_a_kommun_is_accepted_with_a_warning(tmp_path, known):
    folder = tmp_path / "registers"
    folder.mkdir()
    path = csv(folder / "stod_lst.csv", [STOD_HEADER, stod_line(kommun="0509"), stod_line(kommun="0580")])
    assert take_register(folder, STOD, known).warnings.height == 0
    csv(path, [STOD_HEADER, stod_line(kommun="0580"), stod_line(kommun="0581")])
    read = take_register(folder, STOD, known)
    assert [o.status for o in read.outcomes] == ["accepted"] and read.frame.height == 2
    warning = read.warnings.row(0, named=True)
    assert warning["kind"] == "dropped_kommun"
    assert "inga rader för Ödeshög (0509), som den förra versionen hade" in warning["message"]
    status = folder_status(folder).row(0, named=True)
    assert status["n_warnings"] == 1 and status["warning_report"] == "warnings/stod_lst.csv.warnings.md"
    report = (folder / "warnings" / "stod_lst.csv.warnings.md").read_text(encoding="utf-8")
    assert "kommuner saknas i den nya versionen" in report and "Ödeshög" in report
    # The same file again: the warning is about the change, so it is gone, and so is the report.
    take_register(folder, STOD, known)
    assert folder_status(folder).row(0, named=True)["n_warnings"] == 0
    assert not (folder / "warnings" / "stod_lst.csv.warnings.md").exists()


def line_by(actor: str, kommun: str = "0580", start: str = "2025-01-15") -> str:
    return stod_line(kommun=kommun, start=start).replace("Länsstyrelsen Östergötland", actor, 1)


def test_actor_names_go_through_the_alias_list_and_look_alikes_are_reported(tmp_path, known):
    assert short_name("Östergötlands län") == "Östergötland" and short_name("Skåne län") == "Skåne"
    folder = tmp_path / "registers"
    folder.mkdir()
    csv(folder / "stod_2025.csv", [
        STOD_HEADER, line_by("Länsstyrelsen Östergötland"),
        line_by("Länsstyrelsen i Östergötlands län", start="2025-02-01"),
        line_by("LST Östergötland", start="2025-03-01"),
        line_by("Föreningen Trygga barn", start="2025-04-01"),
        line_by("Föreningen Trygga barnen", start="2025-05-01")])
    read = take_register(folder, STOD, known)
    actors = read.frame["actor"].to_list()
    assert actors[:3] == ["Länsstyrelsen i Östergötlands län"] * 3
    assert read.frame["actor_written"].to_list()[:3] == [
        "Länsstyrelsen Östergötland", "Länsstyrelsen i Östergötlands län", "LST Östergötland"]
    similar = read.warnings.filter(pl.col("kind") == "similar_actor")
    assert similar.height == 1
    assert "'Föreningen Trygga barn' och 'Föreningen Trygga barnen' liknar varandra" in similar["message"][0]


def test_demo_rows_count_only_for_counties_without_their_own(tmp_path, known):
    folder = tmp_path / "registers"
    folder.mkdir()
    assert "stod_demo.xlsx" in DEMO_FILES
    demo = csv(folder / "stod_demo.csv", [STOD_HEADER, line_by("Region Östergötland (demo)", kommun="0509"),
                                          line_by("Region Skåne (demo)", kommun="1280")])
    demo.rename(folder / "stod_demo.xlsx.csv")  # a CSV stands in for the demo XLSX below
    csv(folder / "stod_demo.csv", [])  # placeholder removed next
    (folder / "stod_demo.csv").unlink()
    (folder / "stod_demo.xlsx.csv").unlink()
    from sources.registers.templates import write_xlsx
    write_xlsx(STOD, folder / "stod_demo.xlsx", [
        {"actor": "Region Östergötland (demo)", "actor_type": "Region", "area_code": "0509",
         "factor": "Skola", "support_type": "Processtöd", "start": "2025-01-01", "end": "2025-12-31"},
        {"actor": "Region Skåne (demo)", "actor_type": "Region", "area_code": "1280",
         "factor": "Skola", "support_type": "Processtöd", "start": "2025-01-01", "end": "2025-12-31"}])
    only_demo = take_register(folder, STOD, known)
    assert sorted(only_demo.frame["area_code"].to_list()) == ["0509", "1280"]
    csv(folder / "stod_ostergotland.csv", [STOD_HEADER, line_by("Länsstyrelsen Östergötland", kommun="0580")])
    read = take_register(folder, STOD, known)
    # Östergötland's own file replaces the demo rows of its kommuner; Skåne keeps its demo row.
    assert sorted(read.frame["area_code"].to_list()) == ["0580", "1280"]
    status = {o.file: (o.status, o.rows) for o in read.outcomes}
    assert status == {"stod_ostergotland.csv": ("accepted", 1), "stod_demo.xlsx": ("demo", 1)}


BEREDSKAP_HEADER = ";".join(BEREDSKAP.headers)


def interview(assessment: str, day: str, number: int, scores: list[str] | None = None,
              issue: str = "Våld bland unga", kommun: str = "0580") -> str:
    cells = scores or ["4", "4", "4"] * 6
    return ";".join([assessment, kommun, day, issue, "Brott", str(number), "Skola", *cells])


def test_interviews_on_different_days_are_one_assessment_by_its_id(tmp_path, known):
    lines = [BEREDSKAP_HEADER] + [interview("LK-2025", f"2025-03-{10 + i}", i) for i in range(1, 5)]
    parsed = check_file(csv(tmp_path / "beredskap.csv", lines), BEREDSKAP, known)
    assert parsed.problems.height == 0 and parsed.warnings.height == 0
    table = as_table(BEREDSKAP, parsed.frame)
    assert table["assessment_id"].unique().to_list() == ["LK-2025"]
    assert table["prevention_star"].unique().to_list() == ["brott"]


def test_a_blank_consensus_is_an_error_with_row_and_column(tmp_path, known):
    scores = ["4", "4", "4"] * 6
    scores[5] = ""                           # B konsensus blank, both B scorers gave 4
    lines = [BEREDSKAP_HEADER, interview("A1", "2025-03-10", 1), interview("A1", "2025-03-10", 2, scores)]
    parsed = check_file(csv(tmp_path / "beredskap.csv", lines), BEREDSKAP, known)
    assert problems_of(parsed) == [(3, "B konsensus", "missing_value")]
    assert "konsensuspoängen saknas" in parsed.problems["message"][0]


def test_one_assessment_with_two_issues_is_an_error(tmp_path, known):
    lines = [BEREDSKAP_HEADER, interview("A1", "2025-03-10", 1),
             interview("A1", "2025-03-11", 2, issue="Utanförskap")]
    parsed = check_file(csv(tmp_path / "beredskap.csv", lines), BEREDSKAP, known)
    assert (3, "Frågan", "inconsistent") in problems_of(parsed)


def test_the_older_layout_is_read_with_a_clear_warning(tmp_path, known):
    old_header = ";".join(h for h in BEREDSKAP.headers if h not in ("Bedömning", "Preventionsstjärnan"))
    lines = [old_header] + [";".join(["0580", f"2025-03-1{i}", "Våld", str(i), "Skola", *["4"] * 18])
                            for i in range(1, 3)]
    parsed = check_file(csv(tmp_path / "beredskap.csv", lines), BEREDSKAP, known)
    assert parsed.problems.height == 0
    warning = parsed.warnings.row(0, named=True)
    assert (warning["row"], warning["column"], warning["kind"]) == (1, "Bedömning", "old_layout")
    assert "Lägg till kolumnen Bedömning" in warning["message"]
    # As before the assessment id existed: one assessment per kommun, date and issue.
    assert sorted(parsed.frame["assessment_id"].to_list()) == ["0580-2025-03-11", "0580-2025-03-12"]


def test_call_details_must_agree_between_rows(tmp_path, known):
    head = ",".join(ANSOKNINGAR.headers)
    rows = ["C1,Utlysning,Skola,Processtöd,3,Länet,Våld,Brott,,0580,2025-02-01,,",
            "C1,Utlysning,Skola,Processtöd,2,Riket,Våld,Brott,,0581,2025-02-02,,"]
    parsed = check_file(csv(tmp_path / "ansokningar.csv", [head, *rows]), ANSOKNINGAR, known)
    assert problems_of(parsed) == [(3, "Antal platser", "inconsistent"), (3, "Jämförs med", "inconsistent")]
    first = check_file(csv(tmp_path / "ansokningar.csv", [head, rows[0]]), ANSOKNINGAR, known).frame.row(0, named=True)
    assert (first["places"], first["frame"], first["prevention_star"]) == (3, "lan", "brott")


def test_a_csv_with_a_title_row_above_the_header_is_read_like_xlsx(tmp_path, known):
    """The README promises it; the shared reader finds the header below a title (issue 19)."""
    path = csv(tmp_path / "stod_2025.csv", ["Stöd till kommuner i Östergötland 2025;;;;;;;;;;;;",
                                            STOD_HEADER, stod_line()])
    parsed = check_file(path, STOD, known)
    assert parsed.problems.height == 0, parsed.problems.to_dicts()
    assert parsed.frame["source_row"].to_list() == [3]
