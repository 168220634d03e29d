"""Bad survey files: each gives a message naming file, row and column, is quarantined with a
report, stores nothing, and leaves a good file in the same inbox to be processed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sources.surveys.inbox import QUARANTINE, list_inbox
from sources.surveys.intake import take_in
from sources.surveys.private_store import PrivateStore
from sources.tabular.problems import EXAMPLES, count
from tests.survey_files import codebooks, lupp_rows, write_csv

KOMMUNER = {"0580", "0581", "0513"}
LIMIT = 200 * 1024 * 1024


def good_rows(n: int = 12) -> list[dict[str, str]]:
    return lupp_rows([("0580", "Åk 9", "Tjej", n)])


def tab_separated(inbox: Path) -> str:
    write_csv(inbox / "lupp_tab.csv", good_rows(), sep="\t")
    return "lupp_tab.csv"


def ragged_row(inbox: Path) -> str:
    path = write_csv(inbox / "lupp_ragged.csv", good_rows(), sep=";")
    lines = path.read_bytes().split(b"\r\n")
    lines[4] = lines[4].replace(b";", b",", 10)  # row 5 switched to commas mid-way
    path.write_bytes(b"\r\n".join(lines))
    return "lupp_ragged.csv"


def utf16(inbox: Path) -> str:
    write_csv(inbox / "lupp_utf16.csv", good_rows(), encoding="utf-16")
    return "lupp_utf16.csv"


def double_encoded(inbox: Path) -> str:
    # UTF-8 bytes read as Windows-1252 and saved again as UTF-8: "Årskurs" → "Ã…rskurs".
    path = write_csv(inbox / "lupp_mojibake.csv", good_rows(), encoding="utf-8")
    path.write_text(path.read_bytes().decode("utf-8").encode("utf-8").decode("cp1252"), encoding="utf-8")
    return "lupp_mojibake.csv"


def missing_column(inbox: Path) -> str:
    rows = [{k: v for k, v in r.items() if k != "Kön"} for r in good_rows()]
    write_csv(inbox / "lupp_nosex.csv", rows)
    return "lupp_nosex.csv"


def one_bad_cell(name: str, index: int, column: str, value: str):
    """A case: a good file with one cell changed (row index + 2 in the file)."""
    def make(inbox: Path) -> str:
        rows = good_rows()
        rows[index][column] = rows[1][column] if value == "<id of row 3>" else value
        write_csv(inbox / name, rows)
        return name
    make.__name__ = name.removesuffix(".csv")
    return make


unknown_sex_code = one_bad_cell("lupp_code.csv", 6, "Kön", "Tjejj")
unknown_item_code = one_bad_cell("lupp_item.csv", 2, "d1b", "7")
unknown_kommun = one_bad_cell("lupp_kommun.csv", 9, "Kommunkod", "0599")
impossible_weight = one_bad_cell("lupp_weight.csv", 3, "Vikt", "-1,5")
impossible_item = one_bad_cell("lupp_half.csv", 0, "c1a", "2,5")
text_in_number = one_bad_cell("lupp_year.csv", 7, "Enkätår", "tjugotjugotre")
duplicate_id = one_bad_cell("lupp_dup.csv", 4, "Respondent", "<id of row 3>")


def empty_file(inbox: Path) -> str:
    (inbox / "lupp_empty.csv").write_bytes(b"")
    return "lupp_empty.csv"


def header_only(inbox: Path) -> str:
    path = write_csv(inbox / "lupp_header.csv", good_rows(1))
    path.write_bytes(path.read_bytes().split(b"\r\n")[0] + b"\r\n")
    return "lupp_header.csv"


def huge_file(inbox: Path) -> str:
    # Sparse: 300 MB on paper, nothing on disk; the size is refused before any read.
    with (inbox / "lupp_huge.csv").open("wb") as fh:
        fh.truncate(300 * 1024 * 1024)
    return "lupp_huge.csv"


def no_codebook(inbox: Path) -> str:
    write_csv(inbox / "enkat_2023.csv", good_rows())
    return "enkat_2023.csv"


# case → (kind, row, column) of the first problem reported
CASES = {
    tab_separated: ("delimiter", 1, None),
    ragged_row: ("delimiter", 5, "e1b"),  # 20 of 30 fields: values missing from e1b on
    utf16: ("encoding", 1, None),
    double_encoded: ("missing_column", 1, "Enkätår"),
    missing_column: ("missing_column", 1, "Kön"),
    unknown_sex_code: ("unknown_code", 8, "Kön"),
    unknown_item_code: ("unknown_code", 4, "d1b"),
    unknown_kommun: ("unknown_code", 11, "Kommunkod"),
    impossible_weight: ("impossible_value", 5, "Vikt"),
    impossible_item: ("impossible_value", 2, "c1a"),
    text_in_number: ("impossible_value", 9, "Enkätår"),
    duplicate_id: ("duplicate_id", 6, "Respondent"),
    empty_file: ("empty", None, None),
    header_only: ("empty", 2, None),
    huge_file: ("too_large", None, None),
    no_codebook: ("no_codebook", None, None),
}


@pytest.mark.parametrize("make", list(CASES), ids=[f.__name__ for f in CASES])
def test_bad_file_is_named_quarantined_and_the_good_file_still_goes_in(tmp_path, make):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_csv(inbox / "lupp_good.csv", good_rows(15))
    bad = make(inbox)
    store = PrivateStore(tmp_path / "private")
    outcomes = {f.path.name: take_in(f.path, inbox=inbox, codebooks=codebooks(), kommun_codes=KOMMUNER,
                                     store=store, max_bytes=LIMIT)
                for f in list_inbox(inbox)}
    kind, row, column = CASES[make]
    outcome = outcomes[bad]
    assert not outcome.ok
    first = outcome.problems.filter(outcome.problems["kind"] == kind).row(0, named=True)
    assert (first["row"], first["column"]) == (row, column), outcome.problems
    line = outcome.summary().lines[0]
    assert line.startswith(f"{bad}, rad ")
    assert (f"rad {row}," if row else "rad – (hela filen)") in line
    assert (f"kolumn {column}:" if column else "kolumn – (alla)") in line
    # Quarantined with a report in the inbox, the file itself in the private store;
    # nothing of it stored.
    assert not (inbox / bad).exists() and not (inbox / QUARANTINE / bad).exists()
    assert store.path(QUARANTINE, bad).exists()
    report = json.loads((inbox / QUARANTINE / f"{bad}.problems.json").read_text(encoding="utf-8"))
    assert report["failure_count"] == count(outcome.problems)
    assert "rad" in (inbox / QUARANTINE / f"{bad}.problems.md").read_text(encoding="utf-8")
    assert not store.microdata_path(bad).exists()
    # The good file went in untouched by its neighbour.
    assert outcomes["lupp_good.csv"].ok and outcomes["lupp_good.csv"].respondents == 15
    assert store.microdata_files() == [store.microdata_path("lupp_good.csv")]


def test_messages_say_what_is_wrong(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    expected = {
        huge_file: "filen är 300 MB men gränsen är 200 MB",
        double_encoded: "troligen fel teckenkodning",
        tab_separated: "avgränsad med tabb",
        unknown_item_code: "koden finns inte i kodboken lupp (giltiga 1–4, bortfall 99)",
        duplicate_id: "svars-id:t förekommer också på rad 3",
        unknown_sex_code: "könskoden finns inte i kodboken lupp (tillåtna: Kille, Tjej; bortfall",
        unknown_kommun: "kommunen 0599 finns inte bland SCB:s 290 kommuner",
        impossible_weight: "vikten -1,5 är omöjligt",
    }
    for make, text in expected.items():
        name = make(inbox)
        outcome = take_in(inbox / name, inbox=inbox, codebooks=codebooks(), kommun_codes=KOMMUNER,
                          store=PrivateStore(tmp_path / "private"), max_bytes=LIMIT)
        assert text in " ".join(outcome.problems["message"].to_list()), (name, outcome.problems)


def test_every_bad_row_is_counted_but_only_the_first_are_kept(tmp_path):
    # Issue 10 item 6: a problem in every row keeps counts for all, examples for the first.
    rows = lupp_rows([("0580", "Åk 9", "Tjej", 3000)])
    for r in rows:
        r["Kön"] = "?"
        r["c1a"] = "0"
    inbox = tmp_path / "inbox"
    write_csv(inbox / "lupp_many.csv", rows)
    outcome = take_in(inbox / "lupp_many.csv", inbox=inbox, codebooks=codebooks(),
                      kommun_codes=KOMMUNER, store=PrivateStore(tmp_path / "p"))
    assert count(outcome.problems) == 6000
    assert outcome.problems.height == 2 * (EXAMPLES + 1)  # examples + one "and N more" per column
    first = outcome.problems.filter(outcome.problems["column"] == "Kön")
    assert first["row"].to_list()[:EXAMPLES] == list(range(2, 2 + EXAMPLES))
    assert first["n"].to_list()[-1] == 3000 - EXAMPLES
    summary = outcome.summary()
    assert summary.failure_count == 6000 and len(summary.sample) == 20
    assert summary.by_kind == {"unknown_code": 6000}
    report = (inbox / QUARANTINE / "lupp_many.csv.problems.json").stat().st_size
    assert report < 30_000
