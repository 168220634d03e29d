"""Messages a county's survey analyst meets (issue 19 item 5): a CSV with a title above its
header is read as XLSX is, sizes that differ read differently, no library's error names, a
missing-value token named with where the codebook declares it, and a file with personal
identity numbers stopped and erased from the private store once its report is written."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest

from sources.surveys.intake import take_in
from sources.surveys.private_store import PrivateStore
from sources.surveys.validate import size_problem
from sources.tabular.identity import is_identity_number, luhn
from sources.tabular.problems import sizes
from tests.survey_files import codebooks, lupp_rows, sthlm_frame, write_csv, write_sav

KOMMUNER = {"0580", "0581", "0513"}


def take(tmp_path, name: str):
    inbox = tmp_path / "inbox"
    store = PrivateStore(tmp_path / "private")
    return take_in(inbox / name, inbox=inbox, codebooks=codebooks(), kommun_codes=KOMMUNER, store=store), store


def csv_lines(rows: list[dict]) -> list[str]:
    return [";".join(rows[0])] + [";".join(r.values()) for r in rows]


@pytest.mark.parametrize("title", [
    ["LUPP 2023 - Östergötland;;;;;"],                     # a title in the first cell, empty cells after
    ["Export från enkätverktyget 2023-11-02"],             # a title without separators
    ["Elevenkät", "Kommun: Linköping;Årskurs 9", ""],      # two lines of notes and a blank line
])
def test_a_csv_with_a_title_above_the_header_is_read_and_rows_keep_their_numbers(tmp_path, title):
    rows = lupp_rows([("0580", "Åk 9", "Tjej", 12)])
    rows[4]["d1b"] = "7"  # an unknown code on the file's row len(title) + 6
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "lupp_2023.csv").write_bytes("\r\n".join(title + csv_lines(rows)).encode("latin-1") + b"\r\n")
    outcome, _ = take(tmp_path, "lupp_2023.csv")
    first = outcome.problems.row(0, named=True)
    assert (first["kind"], first["row"], first["column"]) == ("unknown_code", len(title) + 6, "d1b")
    rows[4]["d1b"] = "2"
    (tmp_path / "inbox" / "lupp_2023.csv").write_bytes("\r\n".join(title + csv_lines(rows)).encode("latin-1") + b"\r\n")
    outcome, _ = take(tmp_path, "lupp_2023.csv")
    assert outcome.ok, outcome.problems.to_dicts()
    assert outcome.respondents == 12


def test_sizes_are_told_apart():
    mb = 1024**2
    assert sizes(100 * mb + 8, 100 * mb) == ("104 857 608 byte", "104 857 600 byte")
    assert sizes(int(100.04 * mb), 100 * mb) == ("100,04 MB", "100,00 MB")
    assert sizes(300 * mb, 100 * mb) == ("300 MB", "100 MB")


def test_a_file_a_few_bytes_over_the_limit_says_by_how_much(tmp_path):
    path = tmp_path / "lupp_2023.csv"
    with path.open("wb") as fh:
        fh.truncate(100 * 1024**2 + 8)
    message = size_problem(path, 100 * 1024**2)["message"][0]
    assert message.startswith("filen är 104 857 608 byte men gränsen är 104 857 600 byte;")


@pytest.mark.parametrize("name, content", [
    ("lupp_2023.xlsx", b"PK\x03\x04" + b"\x00" * 200),  # a zip that is no workbook
    ("sthlm_2024.sav", b"$FL2" + b"\x00" * 200),         # an SPSS header cut short
])
def test_unreadable_files_are_explained_without_library_error_names(tmp_path, name, content):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / name).write_bytes(content)
    outcome, _ = take(tmp_path, name)
    text = " ".join(outcome.problems["message"])
    assert outcome.problems["kind"].to_list() == ["unreadable"]
    assert "spara den igen" in text
    assert not re.search(r"Error|Exception|Calamine|Readstat|Panic", text, flags=re.IGNORECASE)


@pytest.mark.parametrize("token", ["NA", "NaN", "."])
def test_a_missing_value_token_is_named_with_where_to_declare_it(tmp_path, token):
    rows = lupp_rows([("0580", "Åk 9", "Tjej", 12)])
    for r in rows[:5]:
        r["d1a"] = token
    write_csv(tmp_path / "inbox" / "lupp_2023.csv", rows)
    outcome, _ = take(tmp_path, "lupp_2023.csv")
    problems = outcome.problems.filter(pl.col("column") == "d1a")
    assert problems.height == 5 and set(problems["row"]) == {2, 3, 4, 5, 6}
    message = problems["message"][0]
    assert message.startswith(f"'{token}' används i filen för ett saknat värde")
    assert f'items: d1a: missing' in message and f'[99, "{token}"]' in message
    assert "inget tal" not in " ".join(outcome.problems["message"])
    # Declared in the codebook, the same file goes in (the token is missing, not an answer).
    book = codebooks()["lupp"].model_dump()
    book["item_defaults"]["missing"] = [99, token]
    from transforms.survey_codebook import Codebook
    inbox, store = tmp_path / "inbox", PrivateStore(tmp_path / "private2")
    write_csv(inbox / "lupp_2023.csv", rows)
    assert take_in(inbox / "lupp_2023.csv", inbox=inbox, codebooks={"lupp": Codebook.model_validate(book)},
                   kommun_codes=KOMMUNER, store=store).ok


def test_the_check_digit_of_a_personal_identity_number():
    # Skatteverket's example number 811218-9876 and a samordningsnummer (day + 60).
    assert luhn("8112189876") and is_identity_number("811218-9876") and is_identity_number("198112189876")
    assert not is_identity_number("811218-9875")   # a wrong check digit
    assert is_identity_number("811278-9873") and not is_identity_number("811318-9876")  # no 13th month


@pytest.mark.parametrize("how", ["name", "values", "sav"])
def test_a_file_with_personal_identity_numbers_is_stopped_and_erased(tmp_path, how):
    inbox = tmp_path / "inbox"
    numbers = ["811218-9876", "811278-9873", "20050101-0008", "19991231-9991"]
    valid = [n for n in numbers if is_identity_number(n)]
    if how == "sav":
        frame = sthlm_frame(12).with_columns(pnr=pl.Series([float(valid[i % len(valid)].replace("-", "")[-10:])
                                                            for i in range(12)]))
        write_sav(inbox / "sthlm_2024.sav", frame)
        name = "sthlm_2024.sav"
    else:
        rows = lupp_rows([("0580", "Åk 9", "Tjej", 12)])
        column = "Personnummer" if how == "name" else "Elev"
        rows = [{column: valid[i % len(valid)] if how == "values" else "", **r} for i, r in enumerate(rows)]
        write_csv(inbox / "lupp_2023.csv", rows)
        name = "lupp_2023.csv"
    (inbox / f"{name}.delivery").write_text("respondents: 12", encoding="utf-8")
    outcome, store = take(tmp_path, name)
    assert outcome.problems["kind"].to_list() == ["personal_number"]
    message = outcome.problems["message"][0]
    assert "personnummer" in message and "avidentifierade" in message and "raderats" in message
    assert not any(n in message or n.replace("-", "") in message for n in numbers)
    # The report is written; the file and its sidecar are gone from the store and the inbox.
    report = json.loads((inbox / "quarantine" / f"{name}.problems.json").read_text(encoding="utf-8"))
    assert report["by_kind"] == {"personal_number": 1}
    assert not [p for p in store.all_files() if p.name.startswith(name)]
    assert not (inbox / name).exists() and not (inbox / f"{name}.delivery").exists()
