"""Codebooks load and give catalogue indicators; readers handle every delivered format."""

from __future__ import annotations

import pytest

from sources.surveys.codebook import CodebookError, load_codebook, survey_indicators
from sources.tabular.readers import read_table
from sources.surveys.validate import apply_codebook
from tests.survey_files import (CODEBOOKS, codebooks, lupp_rows, sthlm_frame, write_csv,
                                write_sav)

KOMMUNER = {"0180", "0580", "0581", "0513", "1380"}


def test_both_codebooks_cover_the_scales_of_the_catalogue():
    books = codebooks()
    assert set(books) == {"sthlm", "lupp"}
    for book in books.values():
        assert {"foraldraskap", "skola_positiv", "skola_negativ", "narsamhalle", "fritid",
                "psykiska_besvar"} <= set(book.scales)
    sthlm = books["sthlm"].scales
    assert [c.percentile for c in sthlm["foraldraskap"].cuts.values()] == [75, 90]
    assert sthlm["skola_positiv"].cuts["hogt_skydd"].percentile == 85
    assert sthlm["fritid"].cuts["hogt_skydd"].value == 2  # absolute: a single item
    assert books["sthlm"].reference.municipalities == ["0180"]


def test_survey_indicators_are_valid_catalogue_entries():
    indicators = survey_indicators(codebooks())
    ids = [i.id for i in indicators]
    assert len(ids) == len(set(ids)) == 20
    assert "sthlm_foraldraskap_hog_risk" in ids
    for ind in indicators:
        assert (ind.source, ind.verification, ind.value_type, ind.unit) == ("survey", "SURVEY", "proportion", "%")
        assert (ind.multiplier, ind.ci_method, ind.sex_split, ind.population) == (100, "wilson", "KMT", "all")
        assert ind.polarity == ("low_is_good" if ind.factor == "risk" else "high_is_good")


def test_a_broken_codebook_names_file_and_field(tmp_path):
    text = (CODEBOOKS / "lupp.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "lupp.yaml"
    broken.write_text(text.replace("min_items: 3\n    cuts:\n      forhojd_risk:", "min_items: 9\n    cuts:\n      forhojd_risk:", 1),
                      encoding="utf-8")
    with pytest.raises(CodebookError, match=r"lupp\.yaml: field 'scales\.foraldraskap'.*min_items \(9\)"):
        load_codebook(broken)
    wrong_id = tmp_path / "other.yaml"
    wrong_id.write_text(text, encoding="utf-8")
    with pytest.raises(CodebookError, match=r"other\.yaml: field 'id'"):
        load_codebook(wrong_id)


def test_latin1_semicolon_csv_with_decimal_commas(tmp_path):
    rows = lupp_rows([("0580", "Åk 9", "Tjej", 3), ("0581", "Gy 2", "Kille", 2)])
    rows[0]["Vikt"] = "1,25"
    rows[1]["Kön"] = "Vill inte svara"
    path = write_csv(tmp_path / "lupp_2023.csv", rows, sep=";", encoding="latin-1")
    table = read_table(path)
    assert (table.encoding, table.delimiter) == ("windows-1252", ";")
    assert "Årskurs" in table.frame.columns and "Kön" in table.frame.columns
    checked = apply_codebook(table, codebooks()["lupp"], KOMMUNER)
    assert checked.problems.height == 0
    frame = checked.frame.sort("_row")
    assert frame["weight"].to_list()[:2] == [1.25, 1.0]
    assert frame["grade"].to_list() == ["ak9"] * 3 + ["gy2"] * 2
    assert frame["sex"].to_list() == ["K", None, "K", "M", "M"]
    assert frame["_row"].to_list() == [2, 3, 4, 5, 6]


def test_utf8_comma_csv_with_bom_and_quoted_decimal_commas(tmp_path):
    rows = lupp_rows([("0580", "Åk 9", "Kille", 2)])
    rows[0]["Vikt"] = '"0,8"'
    rows[1]["Vikt"] = "1.5"
    path = tmp_path / "lupp_utf8.csv"
    write_csv(path, rows, sep=",", encoding="utf-8", newline="\n")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    table = read_table(path)
    assert (table.encoding, table.delimiter) == ("utf-8", ",")
    checked = apply_codebook(table, codebooks()["lupp"], KOMMUNER)
    assert checked.problems.height == 0
    assert sorted(checked.frame["weight"].to_list()) == [0.8, 1.5]


def test_xlsx(tmp_path):
    import polars as pl

    rows = lupp_rows([("1380", "Gy 2", "Tjej", 4)])
    frame = pl.DataFrame(rows).with_columns(pl.col("Vikt").str.replace(",", ".").cast(pl.Float64),
                                            pl.col("c1a").cast(pl.Int64))
    path = tmp_path / "lupp_2023.xlsx"
    frame.write_excel(path)
    table = read_table(path)
    assert table.format == "xlsx" and table.first_row == 2
    checked = apply_codebook(table, codebooks()["lupp"], KOMMUNER)
    assert checked.problems.height == 0
    assert checked.frame["kommun"].unique().to_list() == ["1380"]
    assert checked.frame["weight"].to_list() == [1.0] * 4


def test_sav_reads_codes_and_value_labels(tmp_path):
    import polars as pl

    frame = sthlm_frame(6)
    path = write_sav(tmp_path / "sthlm_2024.sav", frame)
    table = read_table(path)
    assert table.value_labels["F2"] == {"1": "Pojke", "2": "Flicka", "3": "Annat"}
    assert table.first_row == 1
    checked = apply_codebook(table, codebooks()["sthlm"], KOMMUNER)
    assert checked.problems.height == 0
    assert checked.frame["kommun"].unique().to_list() == ["0180"]
    expected = frame["F2"].replace_strict({1.0: "M", 2.0: "K"}).to_list()
    assert checked.frame.sort("_row")["sex"].to_list() == expected
    # A vendor that codes sex 5/6 but labels them "Flicka"/"Pojke" is read through the labels.
    relabelled = frame.with_columns(pl.col("F2") + 4)
    path = write_sav(tmp_path / "sthlm_b.sav", relabelled,
                     {"F2": {5.0: "Pojke", 6.0: "Flicka"}, "ARSKURS": {1.0: "Åk 9", 2.0: "Gy 2"}})
    checked = apply_codebook(read_table(path), codebooks()["sthlm"], KOMMUNER)
    assert checked.problems.height == 0
    assert checked.frame.sort("_row")["sex"].to_list() == expected
