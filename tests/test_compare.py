"""Benchmark comparison: the benchmark against the area's 95 % and 99.8 % intervals."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from transforms.compare import add_comparisons, classify

FLIP = {"much_better": "much_worse", "better": "worse", "similar": "similar", "worse": "better",
        "much_worse": "much_better", "not_compared": "not_compared"}


def category(lo95, hi95, lo998, hi998, bench, polarity):
    frame = pl.DataFrame({"a": [lo95], "b": [hi95], "c": [lo998], "d": [hi998], "e": [bench],
                          "p": [polarity]}, schema={"a": pl.Float64, "b": pl.Float64, "c": pl.Float64,
                                                    "d": pl.Float64, "e": pl.Float64, "p": pl.String})
    return frame.select(classify(*[pl.col(c) for c in "abcde"], pl.col("p")))[0, 0]


@pytest.mark.parametrize("bench, high, low, none", [
    (15.0, "similar", "similar", "similar"),
    (10.0, "better", "worse", "higher"),
    (8.0, "much_better", "much_worse", "higher"),
    (21.0, "worse", "better", "lower"),
    (25.0, "much_worse", "much_better", "lower"),
])
def test_five_levels_and_polarity(bench, high, low, none):
    # Wilson 30/200: 95 % 10.71–20.61, 99.8 % 8.81–24.38
    limits = (10.714, 20.606, 8.807, 24.383)
    assert category(*limits, bench, "high_is_good") == high
    assert category(*limits, bench, "low_is_good") == low
    assert category(*limits, bench, "no_judgement") == none


@pytest.mark.parametrize("args", [
    (None, 20.0, 8.0, 25.0, 15.0, "high_is_good"),
    (10.0, 20.0, 8.0, 25.0, None, "high_is_good"),
    (10.0, 20.0, 8.0, 25.0, 15.0, None),
])
def test_not_compared_without_interval_benchmark_or_polarity(args):
    assert category(*args) == "not_compared"


@given(center=st.floats(1, 100), half=st.floats(0.1, 10), extra=st.floats(0, 10),
       bench=st.floats(0, 120))
def test_polarity_flips_the_verdict(center, half, extra, bench):
    limits = (center - half, center + half, center - half - extra, center + half + extra)
    assert category(*limits, bench, "low_is_good") == FLIP[category(*limits, bench, "high_is_good")]


def test_kommun_compared_with_lan_riket_the_rest_of_them_and_peers():
    keys = {"indicator_id": "X", "period": 2024, "sex": "T", "breakdown": "all",
            "polarity": "high_is_good", "status": "ok", "multiplier": 100.0}
    facts = pl.DataFrame([
        {**keys, "area_code": "00", "area_type": "riket", "numerator": 500.0, "denominator": 1000.0},
        {**keys, "area_code": "05", "area_type": "lan", "numerator": 400.0, "denominator": 1000.0},
        {**keys, "area_code": "01", "area_type": "lan", "numerator": 100.0, "denominator": 0.5},
        {**keys, "area_code": "0580", "area_type": "kommun", "numerator": 225.0, "denominator": 500.0},
    ]).with_columns(value=pl.col("numerator") / pl.col("denominator") * 100).with_columns(
        lower_95=pl.col("value") - 3, upper_95=pl.col("value") + 3,
        lower_998=pl.col("value") - 6, upper_998=pl.col("value") + 6)
    areas = pl.DataFrame({"area_code": ["00", "05", "01", "0580"],
                          "lan_code": [None, "05", "01", "05"]})
    peers = pl.DataFrame({"area_code": ["0580"], "indicator_id": ["X"], "period": [2024],
                          "sex": ["T"], "breakdown": ["all"], "peer_value": [45.0]})
    out = add_comparisons(facts, areas, peers).sort("area_code")
    row = out.filter(pl.col("area_code") == "0580").to_dicts()[0]
    assert row["compared_to_lan"] == "better"              # län 40: below 42, above 39
    assert row["compared_to_riket"] == "worse"             # riket 50: above 48, below 51
    assert row["compared_to_rest_of_lan"] == "much_better"  # (400 − 225) / (1000 − 500) = 35
    assert row["compared_to_rest_of_riket"] == "much_worse"  # (500 − 225) / 500 = 55
    assert row["compared_to_peers"] == "similar"
    lan = out.filter(pl.col("area_code") == "05").to_dicts()[0]
    assert lan["compared_to_lan"] is None and lan["compared_to_riket"] == "much_worse"
    assert lan["compared_to_peers"] is None
    assert out.filter(pl.col("area_code") == "00")["compared_to_riket"].item() is None


def test_hidden_kommun_is_not_compared():
    keys = {"indicator_id": "X", "period": 2024, "sex": "T", "breakdown": "all",
            "polarity": "low_is_good", "multiplier": 100.0}
    facts = pl.DataFrame([
        {**keys, "area_code": "00", "area_type": "riket", "status": "ok", "numerator": 5.0,
         "denominator": 10.0, "value": 50.0},
        {**keys, "area_code": "0580", "area_type": "kommun", "status": "suppressed",
         "numerator": None, "denominator": 8.0, "value": None},
    ], schema_overrides={"numerator": pl.Float64, "value": pl.Float64}).with_columns(
        lower_95=pl.lit(None, pl.Float64), upper_95=pl.lit(None, pl.Float64),
        lower_998=pl.lit(None, pl.Float64), upper_998=pl.lit(None, pl.Float64))
    areas = pl.DataFrame({"area_code": ["00", "0580"], "lan_code": [None, "05"]})
    row = add_comparisons(facts, areas).filter(pl.col("area_code") == "0580").to_dicts()[0]
    assert row["compared_to_riket"] == "not_compared" == row["compared_to_rest_of_riket"]
