"""Level shifts and unit changes between two vintages of a series (issue 9 #3)."""

from __future__ import annotations

import polars as pl
import pytest

from transforms.vintage import level_shift, out_of_range, swedish_number, title_unit


def series(values: dict[tuple[str, int], float | None], kpi: str = "N07403") -> pl.DataFrame:
    return pl.DataFrame([{"kpi": kpi, "municipality": m, "period": y, "gender": "T", "value": v}
                         for (m, y), v in values.items()],
                        schema={"kpi": pl.String, "municipality": pl.String, "period": pl.Int64,
                                "gender": pl.String, "value": pl.Float64})


OLD = {("0180", 2020): 10.0, ("0180", 2021): 12.0, ("0580", 2020): 8.0, ("0580", 2021): 9.0,
       ("1280", 2021): 11.0, ("1480", 2022): 7.0}


def test_95_fold_rescale_is_a_level_shift_with_years_and_factor():
    new = series({k: v * 95 for k, v in OLD.items()} | {("0180", 2023): 1000.0})
    row = level_shift(new, series(OLD)).row(0, named=True)
    # six overlapping values, each ratio 95: median 95, years 2020–2022
    assert (row["ratio"], row["pairs"], row["first_year"], row["last_year"], row["shifted"]) == (
        pytest.approx(95.0), 6, 2020, 2022, True)


def test_a_revision_moving_a_few_values_is_not_a_shift():
    revised = dict(OLD) | {("0180", 2021): 20.0, ("1480", 2022): 3.0}  # ratios 1,1.67,1,1,1,0.43
    row = level_shift(series(revised), series(OLD)).row(0, named=True)
    assert row["ratio"] == pytest.approx(1.0) and not row["shifted"]


def test_bounds_are_0_8_and_1_25():
    assert not level_shift(series({k: v * 1.25 for k, v in OLD.items()}), series(OLD))["shifted"].item()
    assert level_shift(series({k: v * 1.26 for k, v in OLD.items()}), series(OLD))["shifted"].item()
    assert level_shift(series({k: v * 0.79 for k, v in OLD.items()}), series(OLD))["shifted"].item()


def test_zeros_missing_and_too_few_overlaps_give_no_verdict():
    old = {("0180", 2020): 0.0, ("0580", 2020): None, ("1280", 2020): 5.0}
    new = {("0180", 2020): 3.0, ("0580", 2020): 4.0, ("1280", 2020): 500.0}
    row = level_shift(series(new), series(old)).row(0, named=True)
    assert row["pairs"] == 1 and not row["shifted"]


@pytest.mark.parametrize("title, unit", [
    ("Anmälda brott om skadegörelse, antal/1000 inv", "antal/1000inv"),
    ("Anmälda brott om skadegörelse, antal/1 000 inv", "antal/1000inv"),
    ("Elever i åk 9 som är behöriga till yrkesprogram, hemkommun, andel (%)", "andel(%)"),
    ("Genomsnittligt meritvärde i åk 9, hemkommun, genomsnitt (17 ämnen)", "genomsnitt(17ämnen)"),
    ("Elever i åk 9, hemkommun", None),
    ("Invånare totalt", None),
])
def test_unit_is_read_from_the_end_of_the_title(title, unit):
    assert title_unit(title) == unit


def test_impossible_values_for_the_type():
    frame = series({("0180", 2020): -1.0, ("0580", 2020): 100.0, ("1280", 2020): 100.5})
    assert out_of_range(frame, "proportion")["value"].to_list() == [-1.0, 100.5]
    assert out_of_range(frame, "rate")["value"].to_list() == [-1.0]
    assert out_of_range(frame, "mean").is_empty()


def test_numbers_with_a_decimal_comma():
    assert swedish_number(95.2143) == "95,2" and swedish_number(0.0123) == "0,0123"
