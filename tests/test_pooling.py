"""Pooled three-year values for rare events."""

from __future__ import annotations

import polars as pl
import pytest

from transforms.pooling import add_pooled_rows

CATALOG = pl.DataFrame({"indicator_id": ["X"], "pooling_years": [3], "value_type": ["rate"],
                        "multiplier": [1000.0], "source_measure": ["count"],
                        "suppress_count_min": [1], "suppress_count_max": [4]})


def rows(numerators, statuses=None):
    statuses = statuses or ["ok"] * len(numerators)
    return pl.DataFrame({
        "indicator_id": "X", "area_code": "0580", "area_type": "kommun", "sex": "T",
        "breakdown": "all", "period": list(range(2020, 2020 + len(numerators))),
        "numerator": numerators, "denominator": [1000.0] * len(numerators), "status": statuses,
        "coverage": [None] * len(numerators), "ci_approximate": [False] * len(numerators),
        "source_title": "t", "fetched_at": "f",
    }, schema_overrides={"numerator": pl.Float64, "coverage": pl.Float64})


def pooled(frame):
    return add_pooled_rows(frame, CATALOG).filter(pl.col("breakdown") == "pooled_3y").sort("period")


def test_three_years_summed():
    out = pooled(rows([2.0, 3.0, 4.0, 6.0]))
    assert out["period"].to_list() == [2022, 2023]
    assert out["numerator"].to_list() == [9.0, 13.0]
    assert out["value"][0] == pytest.approx(9 / 3000 * 1000)
    assert out["status"].to_list() == ["ok", "ok"]


def test_a_missing_year_makes_the_pooled_value_missing():
    out = pooled(rows([2.0, None, 4.0, 6.0], ["ok", "suppressed", "ok", "ok"]))
    assert out["status"].to_list() == ["missing", "missing"]
    assert out["value"].to_list() == [None, None]
    assert "saknas eller är dolt" in out["status_reason"][0]


def test_small_pooled_counts_are_hidden():
    out = pooled(rows([1.0, 1.0, 1.0]))
    assert out["status"].item() == "suppressed" and out["numerator"].item() is None
    assert "antal 1–4" in out["status_reason"].item()
