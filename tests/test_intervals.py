"""Confidence intervals against worked examples from published sources.

Numbers: research/methods-anchors.md §1.2 (PHEindicatormethods / PHE technical guide),
recomputed there with scipy.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from transforms.intervals import (add_intervals, byar, exact_poisson, kish_effective_n, poisson,
                                 student_t, wilson, wilson_weighted)


def test_wilson_30_of_200():
    lo, hi = wilson(30, 200, 0.95)
    assert (lo * 100, hi * 100) == pytest.approx((10.714, 20.606), abs=5e-4)
    lo, hi = wilson(30, 200, 0.998)
    assert (lo * 100, hi * 100) == pytest.approx((8.807, 24.383), abs=5e-4)


def test_wilson_zero_events():
    lo, hi = wilson(0, 25, 0.95)
    assert lo == 0 and hi * 100 == pytest.approx(13.319, abs=5e-4)


def test_wilson_rejects_impossible_inputs():
    lo, hi = wilson(np.array([5, 3, 1]), np.array([4, 0, -2]))
    assert np.isnan(lo).all() and np.isnan(hi).all()


def test_kish_effective_sample_size():
    # 100 respondents weighted 1 and 100 weighted 3: (100 + 300)² / (100·1² + 100·3²)
    # = 160 000 / 1 000 = 160; equal weights give n back.
    w = np.array([1.0] * 100 + [3.0] * 100)
    assert kish_effective_n(w.sum(), (w * w).sum()) == pytest.approx(160.0)
    assert kish_effective_n(12 * 2.5, 12 * 2.5**2) == pytest.approx(12.0)
    assert np.isnan(kish_effective_n(0.0, 0.0))


def test_weighted_share_interval_with_the_effective_sample_size():
    # p̂ = 15 %, n_eff = 160: x = 24 of 160. By hand at 95 % (z² = 3.841459):
    # 2x + z² = 51.841459; z·√(z² + 4x(1 − x/n)) = 1.959964·√(3.841459 + 81.6) = 18.116800;
    # 2(n + z²) = 327.682918 → (51.841459 ∓ 18.116800) / 327.682918 = 10.292 % – 21.349 %,
    # wider than the 10.714–20.606 % of 30 unweighted respondents of 200.
    lo, hi = wilson_weighted(0.15, 160.0)
    assert (lo * 100, hi * 100) == pytest.approx((10.292, 21.349), abs=5e-4)
    lo, hi = wilson_weighted(0.15, 160.0, 0.998)
    assert (lo * 100, hi * 100) == pytest.approx((8.271, 25.672), abs=5e-4)


def test_add_intervals_uses_the_effective_sample_size_of_a_weighted_share():
    rows = pl.DataFrame({"value": [15.0, 15.0], "numerator": [30.0, 30.0], "denominator": [200.0, 200.0],
                         "effective_n": [160.0, None], "multiplier": [100.0, 100.0],
                         "value_type": ["proportion"] * 2, "ci_method_catalog": ["wilson"] * 2,
                         "status": ["ok", "ok"]})
    out = add_intervals(rows)
    assert out["lower_95"].to_list() == pytest.approx([10.292, 10.714], abs=5e-4)
    assert out["ci_method"].to_list() == ["wilson", "wilson"]


def test_byar_50_events():
    lo, hi = byar(50, 0.95)
    assert (lo, hi) == pytest.approx((37.108, 65.920), abs=5e-4)


def test_byar_lower_limit_never_below_zero():
    # x = 1 at 99.8 % (z = 3.0902): 1 · (1 − 1/9 − 3.0902/3)³ = (−0.1412)³ = −0.00281, an
    # impossible count; the limit is clamped at 0. The upper limit is the formula's:
    # 2 · (1 − 1/18 + 3.0902/(3√2))³ = 9.3622.
    lo, hi = byar(1, 0.998)
    assert lo == 0.0
    assert hi == pytest.approx(9.3622, abs=5e-5)


def test_exact_poisson_small_counts():
    assert exact_poisson(50, 0.95) == pytest.approx((37.111, 65.919), abs=5e-4)
    assert exact_poisson(3, 0.95) == pytest.approx((0.619, 8.767), abs=5e-4)
    lo, hi = exact_poisson(0, 0.95)
    assert lo == 0 and hi == pytest.approx(3.689, abs=5e-4)


def test_poisson_switches_to_byar_at_ten():
    lo, hi, method = poisson(np.array([9, 10]))
    assert list(method) == ["exact_poisson", "byar"]
    assert (lo[1], hi[1]) == pytest.approx(tuple(x.item() for x in byar(10)))


def test_rate_of_50_per_12000_children():
    lo, hi, _ = poisson(50)
    assert (lo / 12000 * 1000, hi / 12000 * 1000) == pytest.approx((3.09, 5.49), abs=5e-3)


def test_student_t():
    # mean 10, sd 2, n 16: t(0.975, 15) = 2.13145 → half-width 1.06572
    lo, hi = student_t(10.0, 2.0, 16)
    assert (lo, hi) == pytest.approx((8.93428, 11.06572), abs=1e-4)


@given(x=st.integers(0, 500), extra=st.integers(1, 2000))
def test_wilson_contains_estimate_and_998_is_wider(x, extra):
    n = x + extra
    lo95, hi95 = wilson(x, n, 0.95)
    lo998, hi998 = wilson(x, n, 0.998)
    assert lo95 <= x / n <= hi95
    assert lo998 <= lo95 and hi998 >= hi95


@given(p=st.floats(0.05, 0.95), n=st.integers(20, 5000))
def test_wilson_widens_as_n_falls(p, n):
    small, large = n, n * 4
    lo_s, hi_s = wilson(round(p * small), small)
    lo_l, hi_l = wilson(round(p * large), large)
    assert hi_s - lo_s > hi_l - lo_l


@given(x=st.integers(0, 10_000))
def test_poisson_contains_count(x):
    lo, hi, _ = poisson(x)
    assert lo <= x <= hi
    lo998, hi998, _ = poisson(x, 0.998)
    assert lo998 <= lo and hi998 >= hi


def test_add_intervals_by_catalogue_method():
    facts = pl.DataFrame({
        "numerator": [30.0, 50.0, 50.0, 12.0, None, 5.0],
        "denominator": [200.0, 12000.0, None, 10.0, 100.0, 4.0],
        "multiplier": [100.0, 1000.0, 1.0, 100.0, 100.0, 100.0],
        "value_type": ["proportion", "rate", "count", "proportion", "proportion", "proportion"],
        "ci_method_catalog": ["wilson", "byar_exact", "byar_exact", "none", "wilson", "wilson"],
        "status": ["ok", "ok", "ok", "ok", "ok", "ok"],
    })
    out = add_intervals(facts)
    assert out["ci_method"].to_list() == ["wilson", "byar", "byar", "none", "none", "none"]
    assert out["lower_95"][0] == pytest.approx(10.714, abs=5e-4)
    assert out["upper_95"][1] == pytest.approx(5.4933, abs=5e-4)
    assert out["lower_95"][2] == pytest.approx(37.108, abs=5e-4)
    assert out["lower_95"][3:].to_list() == [None, None, None]
