"""Recent trend: χ² for linear trend, weighted regression, stability, labels."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from transforms.trend import CHI2_998, add_trends, chi2_linear_trend, stable_sign, wls_trend

# Agresti, Categorical Data Analysis (2nd ed., §3.4.6): infant malformation by mother's
# alcohol consumption. Malformations 48, 38, 5, 1, 1 of 17 114, 14 502, 793, 127, 38.
MALFORMED = [48, 38, 5, 1, 1]
TOTAL = [17114, 14502, 793, 127, 38]


def test_chi2_for_trend_agresti_alcohol_scores():
    # scores (0, 0.5, 1.5, 4, 7): M² = 6.57
    assert chi2_linear_trend(MALFORMED, TOTAL, [0, 0.5, 1.5, 4, 7])[0] == pytest.approx(6.57, abs=0.005)


def test_chi2_for_trend_agresti_equal_scores():
    # equally spaced scores (1, …, 5): M² = 1.83
    assert chi2_linear_trend(MALFORMED, TOTAL)[0] == pytest.approx(1.83, abs=0.005)


def test_chi2_equals_armitage_regression_form():
    """N(N·ΣXt − X·ΣNt)² / [X(N−X)(NΣNt² − (ΣNt)²)] is Armitage's b²/var(b) form."""
    rng = np.random.default_rng(1)
    n = rng.integers(50, 500, (20, 5)).astype(float)
    x = np.floor(n * rng.uniform(0.05, 0.6, (20, 5)))
    t = np.arange(1, 6, dtype=float)
    p_bar = x.sum(1) / n.sum(1)
    numerator = ((x - n * p_bar[:, None]) * t).sum(1) ** 2
    denominator = p_bar * (1 - p_bar) * ((n * t * t).sum(1) - (n * t).sum(1) ** 2 / n.sum(1))
    assert chi2_linear_trend(x, n) == pytest.approx(numerator / denominator)


def test_wls_slope_and_chi2():
    y = np.array([[10.0, 12.0, 14.0, 16.0, 18.0]])
    se = np.array([[1.0, 1.0, 1.0, 1.0, 1.0]])
    slope, chi2 = wls_trend(y, se)
    # slope 2, var(slope) = 1/Σ(t − t̄)² = 1/10
    assert slope[0] == pytest.approx(2.0) and chi2[0] == pytest.approx(40.0)
    weighted, _ = wls_trend([[1.0, 2.0, 3.0, 4.0, 20.0]], [[1.0, 1.0, 1.0, 1.0, 100.0]])
    assert weighted[0] == pytest.approx(1.0, abs=0.01)  # the imprecise last point barely counts


def test_leave_one_out_sign_check():
    steady = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
    one_outlier = np.array([[1.0, 1.0, 1.0, 1.0, 9.0]])  # dropping the last point flattens it
    assert stable_sign(steady, None, np.array([1.0]))[0]
    assert not stable_sign(one_outlier, None, np.array([1.6]))[0]


def series(values, *, n=1000, kind="proportion", polarity="low_is_good", status=None, years=None):
    years = years or list(range(2020, 2020 + len(values)))
    status = status or ["ok"] * len(values)
    rows = []
    for year, p, st in zip(years, values, status, strict=True):
        x = p * n
        rows.append({"indicator_id": "X", "area_code": "0580", "sex": "T", "breakdown": "all",
                     "period": year, "value": p * 100 if st == "ok" else None,
                     "numerator": x if st == "ok" else None, "denominator": float(n),
                     "lower_95": p * 100 - 2, "upper_95": p * 100 + 2, "status": st,
                     "value_type": kind, "ci_method": "wilson" if kind == "proportion" else "byar",
                     "polarity": polarity})
    return pl.DataFrame(rows)


def test_rising_risk_is_increasing_and_worse():
    out = add_trends(series([0.10, 0.13, 0.16, 0.19, 0.22])).sort("period")
    assert out["trend"].to_list()[:4] == ["cannot_be_calculated"] * 4
    assert out["trend"][4] == "increasing_worse"
    assert out["trend_chi2"][4] > CHI2_998


def test_polarity_and_no_judgement_labels():
    rising = [0.10, 0.13, 0.16, 0.19, 0.22]
    assert add_trends(series(rising, polarity="high_is_good"))["trend"].sort()[-1] == "increasing_better"
    assert "increasing" in add_trends(series(rising, polarity="no_judgement"))["trend"].to_list()


def test_flat_series_has_no_significant_change():
    out = add_trends(series([0.20, 0.21, 0.19, 0.20, 0.21]))
    assert out.sort("period")["trend"][4] == "no_significant_change"


def test_hidden_year_or_gap_breaks_the_run():
    hidden = add_trends(series([0.1, 0.13, 0.16, 0.19, 0.22],
                               status=["ok", "ok", "suppressed", "ok", "ok"]))
    assert hidden.sort("period")["trend"][4] == "cannot_be_calculated"
    gap = add_trends(series([0.1, 0.13, 0.16, 0.19, 0.22], years=[2016, 2018, 2019, 2020, 2021]))
    assert gap.sort("period")["trend"][4] == "cannot_be_calculated"


def test_rates_use_weighted_regression():
    out = add_trends(series([0.10, 0.13, 0.16, 0.19, 0.22], kind="rate"))
    assert out.sort("period")["trend"][4] == "increasing_worse"


def test_pooled_rows_are_left_out():
    rows = series([0.10, 0.13, 0.16, 0.19, 0.22]).with_columns(breakdown=pl.lit("pooled_3y"))
    assert add_trends(rows)["trend"].null_count() == 5


def test_a_year_at_zero_percent_keeps_a_significant_rise():
    """x = 0, 5, 10, 15, 20 of 100 each: N = 500, X = 50, ΣXt = 200, ΣNt = 1 500,
    ΣNt² = 5 500, so N·ΣXt − X·ΣNt = 25 000 and
    χ² = 500 · 25 000² / (50 · 450 · (500 · 5 500 − 1 500²)) = 27.78 > 9.55.
    logit(0) is −∞; the direction comes from empirical logits and stays 'increasing'."""
    assert chi2_linear_trend([0, 5, 10, 15, 20], [100] * 5)[0] == pytest.approx(27.78, abs=0.005)
    out = add_trends(series([0.0, 0.05, 0.10, 0.15, 0.20], n=100)).sort("period")
    assert out["trend"][4] == "increasing_worse"
    assert out["trend_chi2"][4] == pytest.approx(27.78, abs=0.005)


def test_a_year_at_hundred_percent_keeps_a_significant_fall():
    # the mirror image of the case above: 100, 95, 90, 85, 80 of 100, same χ²
    out = add_trends(series([1.0, 0.95, 0.90, 0.85, 0.80], n=100, polarity="high_is_good"))
    out = out.sort("period")
    assert out["trend"][4] == "decreasing_worse"
    assert out["trend_chi2"][4] == pytest.approx(27.78, abs=0.005)
