"""Scale scores (reverse coding, minimum answered items), cut-points and cell counts."""

from __future__ import annotations

import polars as pl
import pytest

from transforms.survey_codebook import Codebook
from transforms.survey import (SCORE, SurveyReferenceError, kommun_cells, resolve_cuts, score,
                               survey_values)
from tests.survey_files import codebooks


def book_with(**changes) -> Codebook:
    base = codebooks()["lupp"].model_dump()
    base.update(changes)
    return Codebook.model_validate(base)


def respondents(rows: list[dict]) -> pl.DataFrame:
    book = codebooks()["lupp"]
    defaults = {"respondent_id": "x", "kommun": "0580", "year": 2023, "grade": "ak9", "sex": "K",
                "weight": 1.0, **{i: None for i in book.scale_items}}
    frame = pl.DataFrame([{**defaults, "respondent_id": f"r{i}", **r} for i, r in enumerate(rows)],
                         schema_overrides={i: pl.Float64 for i in book.scale_items})
    return frame.with_columns(pl.col("year").cast(pl.Int32))


def test_reverse_coding_and_mean_of_answered_items():
    # foraldraskap: d1a, d1b, d1c reversed (5 − code on 1–4), d1d as is; min 3 items.
    frame = respondents([
        {"d1a": 1, "d1b": 1, "d1c": 1, "d1d": 4},      # all risk: (4+4+4+4)/4
        {"d1a": 4, "d1b": 4, "d1c": 4, "d1d": 1},      # no risk: 1
        {"d1a": 4, "d1b": 2, "d1c": None, "d1d": 3},   # three answered: (1+3+3)/3
        {"d1a": 4, "d1b": None, "d1c": None, "d1d": 3},  # two answered: no score
    ])
    scores = score(frame, codebooks()["lupp"]).collect()
    assert scores[SCORE + "foraldraskap"].to_list() == [4.0, 1.0, pytest.approx(7 / 3), None]


def test_single_item_scale_scores_the_item():
    frame = respondents([{"b7": 1}, {"b7": 2}, {}])
    assert score(frame, codebooks()["lupp"]).collect()[SCORE + "fritid"].to_list() == [1.0, 2.0, None]


def test_absolute_cut_points_with_each_operator():
    book = codebooks()["lupp"]
    frame = respondents([{"d1a": 4, "d1b": 4, "d1c": 3, "d1d": 2},   # (1+1+2+2)/4 = 1.5
                         {"d1a": 3, "d1b": 2, "d1c": 2, "d1d": 2},   # (2+3+3+2)/4 = 2.5
                         {"d1a": 1, "d1b": 2, "d1c": 2, "d1d": 3},   # (4+3+3+3)/4 = 3.25
                         {"b7": 1}, {"b7": 2}])
    scores = score(frame, book).collect()
    cuts = resolve_cuts(scores, book)
    cells = kommun_cells(scores, book, cuts).filter(pl.col("sex") == "T", pl.col("breakdown") == "all")
    by_id = {r["indicator_id"]: (r["n_flag"], r["n"]) for r in cells.iter_rows(named=True)}
    assert by_id["lupp_foraldraskap_forhojd_risk"] == (2, 3)  # >= 2.5 includes the boundary
    assert by_id["lupp_foraldraskap_hog_risk"] == (1, 3)      # >= 3
    assert by_id["lupp_fritid_hogt_skydd"] == (1, 2)          # <= 1 means "ja"


def sthlm_with(**reference) -> Codebook:
    base = codebooks()["sthlm"].model_dump()
    base["reference"] = {**base["reference"], **reference}
    return Codebook.model_validate(base)


def test_percentile_cut_points_are_the_mean_of_yearly_percentiles_in_the_reference():
    book = sthlm_with(years=[2022, 2024])
    rows = []
    for year, kommun, values in ((2022, "0180", range(1, 5)), (2024, "0180", [1, 1, 1, 1, 1, 4, 4, 4, 4, 4]),
                                 (2024, "0181", [4] * 50)):  # 0181 is outside the reference
        for v in values:
            rows.append({"kommun": kommun, "year": year, **{i: float(v) for i in book.scales["psykiska_besvar"].items}})
    scores = pl.DataFrame([{"kommun": r["kommun"], "year": r["year"],
                            SCORE + "psykiska_besvar": r["f88a"]} for r in rows])
    for name in book.scales:
        if name != "psykiska_besvar":
            scores = scores.with_columns(pl.lit(2.0).alias(SCORE + name))
    cuts = resolve_cuts(scores, book).filter(pl.col("scale") == "psykiska_besvar")
    p75 = {2022: 3.25, 2024: 4.0}  # linear interpolation within each year
    p90 = {2022: 3.7, 2024: 4.0}
    assert cuts["threshold"].to_list() == pytest.approx([sum(p75.values()) / 2, sum(p90.values()) / 2])
    assert cuts["reference_n"].to_list() == [14, 14]
    assert cuts["reference_years"].to_list() == ["2022,2024", "2022,2024"]


def test_percentile_without_a_reference_population_stops_with_a_clear_error():
    book = codebooks()["sthlm"]
    scores = pl.DataFrame({"kommun": ["0181"], "year": [2024],
                           **{SCORE + s: [2.0] for s in book.scales}})
    with pytest.raises(SurveyReferenceError, match=r"kodboken sthlm: skalan 'foraldraskap': referensåren 2024 \(kommunerna 0180\)"):
        resolve_cuts(scores, book)


def test_cells_roll_up_sex_and_grade_with_missing_values_only_in_the_totals():
    book = codebooks()["lupp"]
    rows = ([{"sex": "K", "grade": "ak9", "b7": 1}] * 4 + [{"sex": "M", "grade": "ak9", "b7": 2}] * 3
            + [{"sex": None, "grade": "gy2", "b7": 1}] * 2 + [{"sex": "K", "grade": None, "b7": 1}])
    scores = score(respondents(rows), book).collect()
    cells = kommun_cells(scores, book, resolve_cuts(scores, book)).filter(
        pl.col("indicator_id") == "lupp_fritid_hogt_skydd")
    got = {(r["sex"], r["breakdown"]): (r["n_flag"], r["n"]) for r in cells.iter_rows(named=True)}
    assert got == {("K", "ak9"): (4, 4), ("M", "ak9"): (0, 3), ("T", "ak9"): (4, 7),
                   ("T", "gy2"): (2, 2), ("K", "all"): (5, 5), ("M", "all"): (0, 3),
                   ("T", "all"): (7, 10)}


def test_weighted_share_keeps_respondents_as_denominator():
    book = codebooks()["lupp"]
    rows = [{"b7": 1, "weight": 3.0}] * 10 + [{"b7": 2, "weight": 1.0}] * 10
    scores = score(respondents(rows), book).collect()
    cells = kommun_cells(scores, book, resolve_cuts(scores, book)).with_columns(
        source_file=pl.lit("f.csv"), fetched_at=pl.lit("2026-01-01T00:00:00Z"),
        area_type=pl.lit("kommun"), parent=pl.lit("05"))
    values = survey_values(cells, {"lupp": True}, 10).cells.filter(
        pl.col("indicator_id") == "lupp_fritid_hogt_skydd", pl.col("sex") == "K",
        pl.col("breakdown") == "all")
    row = values.row(0, named=True)
    assert row["denominator"] == 20
    assert row["value"] == pytest.approx(75.0)  # 30 of 40 weight units
    assert row["numerator"] == pytest.approx(15.0)
    # A weighted count, and the interval's sample size: (10·3 + 10·1)² / (10·9 + 10·1) = 16.
    assert row["effective_n"] == pytest.approx(16.0)
    unweighted = survey_values(cells, {"lupp": False}, 10).cells.filter(
        pl.col("indicator_id") == "lupp_fritid_hogt_skydd", pl.col("sex") == "K",
        pl.col("breakdown") == "all").row(0, named=True)
    assert (unweighted["numerator"], unweighted["value"], unweighted["effective_n"]) == (10.0, 50.0, None)


def test_weighted_sums_are_exact_and_the_same_in_any_row_order():
    # Weights like 0.1 do not add up exactly in floats, and the order polars adds them in
    # changes between runs: a replayed build must give the same bits. The sums are the
    # correctly rounded exact sums (math.fsum), whatever the row order.
    import math

    import numpy as np

    book = codebooks()["lupp"]
    rng = np.random.default_rng(7)
    weights = rng.uniform(0.01, 50, 4000).round(6)
    rows = [{"b7": int(b), "weight": float(w), "sex": s}
            for b, w, s in zip(rng.integers(1, 3, 4000), weights, rng.choice(["K", "M"], 4000), strict=True)]
    scores = score(respondents(rows), book).collect()
    cuts = resolve_cuts(scores, book)
    cells = kommun_cells(scores, book, cuts)
    total = cells.filter(pl.col("indicator_id") == "lupp_fritid_hogt_skydd", pl.col("sex") == "T",
                         pl.col("breakdown") == "all").row(0, named=True)
    assert total["w"] == math.fsum(weights)
    assert total["w_flag"] == math.fsum(w for r, w in zip(rows, weights, strict=True) if r["b7"] == 1)
    for seed in range(3):
        shuffled = scores.sample(fraction=1.0, shuffle=True, seed=seed)
        assert kommun_cells(shuffled, book, cuts).equals(cells)
