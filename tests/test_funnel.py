"""Funnel limits: inverse Wilson for proportions, exact Poisson for rates, over-dispersion."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from transforms.funnel import funnel_limits, overdispersion, poisson_funnel, wilson_funnel
from transforms.intervals import Z95, Z998, exact_poisson, wilson


def test_wilson_funnel_worked_example():
    # p̄ = 12 %, N = 200 → 7.50–16.50 % at 95 %, 4.90–19.10 % at 99.8 %
    lo, hi = wilson_funnel(0.12, 200, Z95)
    assert (lo * 100, hi * 100) == pytest.approx((7.50, 16.50), abs=0.005)
    lo, hi = wilson_funnel(0.12, 200, Z998)
    assert (lo * 100, hi * 100) == pytest.approx((4.90, 19.10), abs=0.005)


def test_wilson_funnel_is_where_the_interval_touches_the_benchmark():
    for n in (50.0, 200.0, 5000.0):
        lo, hi = wilson_funnel(0.3, n, Z95)
        assert wilson(lo * n, n)[1] == pytest.approx(0.3, rel=1e-6)
        assert wilson(hi * n, n)[0] == pytest.approx(0.3, rel=1e-6)


def test_poisson_funnel_is_where_the_exact_interval_touches_the_expected_count():
    rate, n = 0.004, 10_000.0  # 40 expected events
    lo, hi = poisson_funnel(rate, n, 0.95)
    assert exact_poisson(lo * n, 0.95)[1] == pytest.approx(40.0, rel=1e-6)
    assert exact_poisson(hi * n, 0.95)[0] == pytest.approx(40.0, rel=1e-6)
    lo998, hi998 = poisson_funnel(rate, n, 0.998)
    assert lo998 < lo < rate < hi < hi998


def test_no_overdispersion_when_spread_is_random():
    rng = np.random.default_rng(3)
    n = rng.integers(200, 5000, 290).astype(float)
    p = rng.binomial(n.astype(int), 0.2) / n
    phi, tau2 = overdispersion(np.arcsin(np.sqrt(p)), 1 / (2 * np.sqrt(n)), np.arcsin(np.sqrt(0.2)))
    assert tau2 == 0.0 and phi < 1.3


def test_overdispersion_by_hand():
    # z = (y − 0)/s with s = 1: z = y; winsorising 10/90 % of five values clips the ends.
    y = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    s = np.ones(5)
    phi, tau2 = overdispersion(y, s, 0.0)
    low, high = np.quantile(y, [0.1, 0.9])
    zw = np.clip(y, low, high)
    expected_phi = (zw ** 2).sum() / 5
    assert phi == pytest.approx(expected_phi)
    # w = 1: τ² = (kφ − (k − 1)) / (Σw − Σw²/Σw) = (5φ − 4) / (5 − 1)
    assert tau2 == pytest.approx((5 * expected_phi - 4) / 4)


def test_funnel_limits_table():
    rows = []
    rng = np.random.default_rng(5)
    for i in range(40):
        den = float(rng.integers(100, 3000))
        rows.append({"indicator_id": "X", "period": 2024, "sex": "T", "breakdown": "all",
                     "area_type": "kommun", "area_code": f"{i:04d}", "status": "ok", "denominator": den,
                     "numerator": float(rng.binomial(int(den), 0.25))})
    rows.append({**rows[0], "area_type": "riket", "area_code": "0000", "numerator": 2500.0,
                 "denominator": 10000.0})
    facts = pl.DataFrame(rows).with_columns(multiplier=pl.lit(100.0), value_type=pl.lit("proportion"),
                                            ci_method_catalog=pl.lit("wilson"))
    limits = funnel_limits(facts)
    assert limits.height == 60 and (limits["benchmark"] == 25.0).all()
    widths = (limits["upper_95"] - limits["lower_95"]).to_list()
    assert widths == sorted(widths, reverse=True)  # narrower as the denominator grows
    assert (limits["upper_95_od"] >= limits["upper_95"] - 1e-9).all()
    # φ and τ² are sums over the kommuner: the same bits whatever order the rows come in
    # (a replayed build must be byte-identical, and polars' joins do not keep an order).
    for seed in range(5):
        assert funnel_limits(facts.sample(fraction=1.0, shuffle=True, seed=seed)).equals(limits)


def test_wilson_funnel_limits_stay_within_0_and_100_percent():
    # p̄ = 2 %, N = 10 at 99.8 %: the formula gives a lower limit of −11.68 %; no observed
    # share can be significantly low there, so the limit is 0. Mirror case p̄ = 97 %: the
    # upper limit 113.67 % becomes 100 %.
    lo, hi = wilson_funnel(0.02, 10, Z998)
    assert lo == 0.0 and hi == pytest.approx(0.15681, abs=1e-5)
    lo, hi = wilson_funnel(0.97, 10, Z998)
    assert lo == pytest.approx(0.80330, abs=1e-5) and hi == 1.0


def test_funnel_table_limits_are_possible_values():
    rows = [{"indicator_id": "X", "period": 2024, "sex": "T", "breakdown": "all",
             "area_type": "kommun", "area_code": f"{den:04d}", "status": "ok", "denominator": float(den),
             "numerator": float(round(den * 0.03))} for den in (8, 12, 40, 200, 1000)]
    rows.append({**rows[0], "area_type": "riket", "area_code": "0000", "numerator": 300.0,
                 "denominator": 10000.0})
    facts = pl.DataFrame(rows).with_columns(multiplier=pl.lit(100.0), value_type=pl.lit("proportion"),
                                            ci_method_catalog=pl.lit("wilson"))
    limits = funnel_limits(facts)
    for column in ("lower_95", "upper_95", "lower_998", "upper_998",
                   "lower_95_od", "upper_95_od", "lower_998_od", "upper_998_od"):
        assert limits[column].is_between(0.0, 100.0).all(), column
    assert limits["lower_998"].min() == 0.0


def test_a_national_row_with_denominator_zero_gives_no_funnel_and_no_crash():
    rows = [{"indicator_id": "X", "period": 2024, "sex": "T", "breakdown": "all",
             "area_type": "kommun", "area_code": "0114", "status": "ok", "denominator": 100.0,
             "numerator": 5.0},
            {"indicator_id": "X", "period": 2024, "sex": "T", "breakdown": "all",
             "area_type": "riket", "area_code": "0000", "status": "ok", "denominator": 0.0,
             "numerator": 0.0}]
    facts = pl.DataFrame(rows).with_columns(multiplier=pl.lit(100.0), value_type=pl.lit("proportion"),
                                            ci_method_catalog=pl.lit("wilson"))
    assert funnel_limits(facts).is_empty()


def test_a_national_share_above_100_percent_gives_no_funnel_that_year():
    """N11821 (children 3–5 in preschool) can exceed 100 % in riket too: a binomial funnel
    around 100.7 % means nothing, so that year has none (issue 15 #1); other years keep theirs."""
    rows = []
    for period, national in ((2023, 9_500.0), (2024, 10_070.0)):
        rows += [{"indicator_id": "N11821", "period": period, "sex": "T", "breakdown": "all",
                  "area_type": "kommun", "area_code": f"{i:04d}", "status": "ok",
                  "denominator": 500.0, "numerator": 480.0 + 10 * i} for i in range(4)]
        rows.append({**rows[-1], "area_type": "riket", "area_code": "0000", "numerator": national,
                     "denominator": 10_000.0})
    facts = pl.DataFrame(rows).with_columns(multiplier=pl.lit(100.0), value_type=pl.lit("proportion"),
                                            ci_method_catalog=pl.lit("wilson"))
    limits = funnel_limits(facts)
    assert set(limits["period"]) == {2023} and (limits["benchmark"] == 95.0).all()
