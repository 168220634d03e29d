"""Recent trend over the last five annual points (the OHID "recent trend" marker).

Preconditions (Fingertips TrendMarkerCalculator): five consecutive annual values counted
back from the year in question, each with a value; a missing or hidden year breaks the run.

* Proportions: chi-square test for linear trend (Cochran–Armitage), with scores t = 1..5,
      χ² = N·(N·ΣXᵢtᵢ − X·ΣNᵢtᵢ)² / [X(N − X)·(N·ΣNᵢtᵢ² − (ΣNᵢtᵢ)²)]
  and the direction from the slope of logit(pᵢ) on t. Not computed when X = 0 or X = N.
  Where a point is 0 % or 100 % its logit is infinite; the series then takes empirical
  logits log((xᵢ + ½)/(nᵢ − xᵢ + ½)) (Haldane–Anscombe), so a significant χ² keeps its
  direction instead of falling to "no significant change".
* Other values: weighted least squares of the value on t with SEᵢ = (upper95 − lower95)/3.92
  and wᵢ = 1/SEᵢ²; χ² = (slope / SE(slope))².

A trend is significant when χ² > 9.5495 (99.8 %, one degree of freedom) and the slope keeps
its sign in all five leave-one-out fits. Sources: research/methods-anchors.md §1.4.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

POINTS = 5
CHI2_998 = float(stats.chi2.ppf(0.998, 1))  # 9.5495
SERIES = ["indicator_id", "area_code", "sex", "breakdown"]


def chi2_linear_trend(x, n, t=None) -> np.ndarray:
    """Cochran–Armitage χ² for counts x of n over scores t (rows = series, columns = points)."""
    x, n = np.atleast_2d(np.asarray(x, dtype=float)), np.atleast_2d(np.asarray(n, dtype=float))
    t = np.arange(1, x.shape[1] + 1, dtype=float) if t is None else np.asarray(t, dtype=float)
    big_n, big_x = n.sum(axis=1), x.sum(axis=1)
    sxt, snt, sntt = (x * t).sum(axis=1), (n * t).sum(axis=1), (n * t * t).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return big_n * (big_n * sxt - big_x * snt) ** 2 / (
            big_x * (big_n - big_x) * (big_n * sntt - snt ** 2))


def _slopes(y: np.ndarray, w: np.ndarray | None = None, t: np.ndarray | None = None) -> np.ndarray:
    """Slope of y on t (default 1..k) per row, weighted when w is given."""
    t = np.arange(1, y.shape[1] + 1, dtype=float) if t is None else t
    w = np.ones_like(y) if w is None else w
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        sw, swt, swy = w.sum(axis=1), (w * t).sum(axis=1), (w * y).sum(axis=1)
        swtt, swty = (w * t * t).sum(axis=1), (w * t * y).sum(axis=1)
        return (sw * swty - swt * swy) / (sw * swtt - swt ** 2)


def wls_trend(y, se) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least-squares slope and χ² = (slope / SE)² with wᵢ = 1/SEᵢ²."""
    y, se = np.atleast_2d(np.asarray(y, dtype=float)), np.atleast_2d(np.asarray(se, dtype=float))
    t = np.arange(1, y.shape[1] + 1, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        w = 1 / se ** 2
        sw, swt, swtt = w.sum(axis=1), (w * t).sum(axis=1), (w * t * t).sum(axis=1)
        slope = _slopes(y, w)
        se_slope = np.sqrt(sw / (sw * swtt - swt ** 2))
        return slope, (slope / se_slope) ** 2


def stable_sign(y: np.ndarray, w: np.ndarray | None, full: np.ndarray) -> np.ndarray:
    """True where every leave-one-out slope has the sign of the full slope."""
    ok = np.sign(full) != 0
    w = np.ones_like(y) if w is None else w
    for drop in range(y.shape[1]):
        keep = [i for i in range(y.shape[1]) if i != drop]
        slope = _slopes(y[:, keep], w[:, keep], np.array(keep, dtype=float) + 1)
        ok &= np.sign(slope) == np.sign(full)
    return ok


def logits(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """logit(xᵢ/nᵢ) per point; empirical logits for a whole row with a point at 0 or 100 %."""
    with np.errstate(invalid="ignore", divide="ignore"):
        plain = np.log(x / (n - x))
        empirical = np.log((x + 0.5) / (n - x + 0.5))
    extreme = ((x <= 0) | (x >= n)).any(axis=1, keepdims=True)
    return np.where(extreme, empirical, plain)


def _label(slope_sign: np.ndarray, significant: np.ndarray, polarity: np.ndarray,
           computable: np.ndarray) -> np.ndarray:
    direction = np.where(slope_sign > 0, "increasing", "decreasing")
    better = ((slope_sign > 0) & (polarity == "high_is_good")) | ((slope_sign < 0) & (polarity == "low_is_good"))
    judged = np.isin(polarity, ["high_is_good", "low_is_good"])
    verdict = np.where(judged, np.char.add(np.char.add(direction.astype(str), "_"),
                                           np.where(better, "better", "worse")), direction)
    label = np.where(significant, verdict, "no_significant_change")
    return np.where(computable, label, "cannot_be_calculated")


def _windows(facts: pl.DataFrame) -> pl.DataFrame:
    """Each row with the five values ending at its year, when those five years are all there."""
    cols = ["value", "numerator", "denominator", "lower_95", "upper_95"]
    # Sorted, a series' rows are contiguous: the row `lag` back is the series' own where it
    # has the same series number (plain shifts: a window per series was four times slower).
    start = pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift(1)) for c in SERIES)
    ordered = facts.sort(*SERIES, "period").with_columns(_series=start.cum_sum())

    def same(lag: int) -> pl.Expr:
        return pl.col("_series").shift(lag) == pl.col("_series")

    lags = []
    for lag in range(POINTS - 1, -1, -1):
        lags.extend(pl.when(same(lag)).then(pl.col(c).shift(lag)).alias(f"{c}_{POINTS - 1 - lag}")
                    for c in cols)
    first_period = pl.when(same(POINTS - 1)).then(pl.col("period").shift(POINTS - 1))
    ok_run = pl.when(same(POINTS - 1)).then(pl.col("_ok").cast(pl.Int32).rolling_sum(POINTS))
    return ordered.with_columns(_ok=(pl.col("status") == "ok")).with_columns(
        *lags, _consecutive=(pl.col("period") - first_period) == POINTS - 1,
        _all_ok=ok_run == POINTS).drop("_series")


def add_trends(facts: pl.DataFrame) -> pl.DataFrame:
    """Add `trend` to every annual row (breakdown other than pooled) with five years behind it.

    Needs value, numerator, denominator, lower/upper_95, status, value_type, polarity.
    """
    annual = ~pl.col("breakdown").str.starts_with("pooled")
    w = _windows(facts.filter(annual))
    k = POINTS
    get = lambda c: np.column_stack([w[f"{c}_{i}"].cast(pl.Float64).fill_null(np.nan).to_numpy()
                                     for i in range(k)])
    value, num, den, lo, hi = (get(c) for c in ("value", "numerator", "denominator", "lower_95",
                                                 "upper_95"))
    window_ok = (w["_consecutive"].fill_null(False) & w["_all_ok"].fill_null(False)).to_numpy()
    proportion = (w["value_type"] == "proportion").to_numpy() & (w["ci_method"] == "wilson").to_numpy()

    # proportions: χ² for trend on counts; direction from logit(p)
    logit = logits(num, den)
    chi_p = chi2_linear_trend(num, den)
    slope_p = _slopes(logit)
    usable_p = (proportion & window_ok & np.isfinite(num).all(axis=1) & np.isfinite(den).all(axis=1)
                & (num.sum(axis=1) > 0) & (num.sum(axis=1) < den.sum(axis=1)))
    stable_p = stable_sign(np.nan_to_num(logit), None, slope_p)

    # everything else with intervals: weighted regression on the values
    se = (hi - lo) / 3.92
    slope_w, chi_w = wls_trend(value, se)
    usable_w = (~proportion & window_ok & np.isfinite(value).all(axis=1)
                & np.isfinite(se).all(axis=1) & (se > 0).all(axis=1))
    stable_w = stable_sign(np.nan_to_num(value), np.nan_to_num(1 / se ** 2), slope_w)

    slope = np.where(proportion, slope_p, slope_w)
    chi = np.where(proportion, chi_p, chi_w)
    usable = np.where(proportion, usable_p, usable_w)
    stable = np.where(proportion, stable_p, stable_w)
    significant = usable & np.isfinite(chi) & (chi > CHI2_998) & stable
    labels = _label(np.sign(np.nan_to_num(slope)), significant, w["polarity"].to_numpy(), usable)
    trends = w.select(*SERIES, "period").with_columns(
        trend=pl.Series(labels.astype(str)),
        trend_chi2=pl.Series(np.where(usable, chi, np.nan)).fill_nan(None),
    )
    return facts.join(trends, on=[*SERIES, "period"], how="left")
