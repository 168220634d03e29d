"""Confidence intervals, one function per method (as in PHEindicatormethods).

All functions are vectorised over numpy arrays and return NaN where the inputs do not
allow an interval. Formulas and worked examples: research/methods-anchors.md §1.2.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

Z95 = float(stats.norm.ppf(0.975))    # 1.959964
Z998 = float(stats.norm.ppf(0.999))   # 3.090232
EXACT_BELOW = 10                      # exact Poisson below 10 events, Byar's from 10


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(1 - (1 - confidence) / 2))


def wilson(x, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion x/n, as fractions (0–1).

    lower, upper = (2x + z² ∓ z·sqrt(z² + 4x(1 − x/n))) / (2(n + z²))
    Source: Wilson (1927); PHEindicatormethods `wilson_lower/upper`.
    Worked example: x = 30, n = 200 → 10.714–20.606 % at 95 %.
    """
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    z = _z(confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        valid = (n > 0) & (x >= 0) & (x <= n)
        root = z * np.sqrt(np.where(valid, z * z + 4 * x * (1 - x / np.where(n > 0, n, 1)), np.nan))
        denom = 2 * (n + z * z)
        lower = (2 * x + z * z - root) / denom
        upper = (2 * x + z * z + root) / denom
    lower = np.where(valid, np.clip(lower, 0.0, 1.0), np.nan)
    upper = np.where(valid, np.clip(upper, 0.0, 1.0), np.nan)
    return lower, upper


def kish_effective_n(sum_w, sum_w2) -> np.ndarray:
    """Kish's effective sample size of weighted respondents: n_eff = (Σw)² / Σw².

    Equal weights give n; unequal weights give fewer (the design effect of weighting,
    deff = n / n_eff). Source: Kish (1965), Survey Sampling, §11.7.
    Worked example: 100 weights of 1 and 100 of 3 → (400)² / (100 + 900) = 160.
    """
    sum_w, sum_w2 = np.asarray(sum_w, dtype=float), np.asarray(sum_w2, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sum_w2 > 0, sum_w * sum_w / np.where(sum_w2 > 0, sum_w2, 1), np.nan)


def wilson_weighted(share, effective_n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a weighted share p̂ (0–1) with Kish's effective sample size:
    the Wilson interval of x = p̂ · n_eff out of n_eff (Kish 1965; the usual design-effect
    adjustment of a proportion's interval, as in survey software's "effective n").
    Worked example: p̂ = 15 % with 200 respondents weighted 1 and 3 (n_eff = 160) →
    10.292–21.349 % at 95 %, against 10.714–20.606 % for 30 of 200 unweighted.
    """
    share, n = np.asarray(share, dtype=float), np.asarray(effective_n, dtype=float)
    return wilson(share * n, n, confidence)


def exact_poisson(x, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (chi-square) interval for a Poisson count x.

    lower = χ²(α/2; 2x)/2, upper = χ²(1 − α/2; 2x + 2)/2, with lower = 0 when x = 0.
    Source: Garwood (1936); PHEindicatormethods `exact` method.
    Worked example: x = 3 → 0.619–8.767; x = 0 → 0–3.689 at 95 %.
    """
    x = np.asarray(x, dtype=float)
    # Counts repeat (a fact table holds a few thousand distinct ones in 100,000 rows) and
    # the chi-square quantile is slow: computed once per distinct count.
    counts, where = np.unique(x.ravel(), return_inverse=True)
    alpha = 1 - confidence
    with np.errstate(invalid="ignore"):
        valid = counts >= 0
        lower = np.where(counts > 0, stats.chi2.ppf(alpha / 2, 2 * np.where(counts > 0, counts, 1)) / 2, 0.0)
        upper = stats.chi2.ppf(1 - alpha / 2, 2 * np.where(valid, counts, 0) + 2) / 2
    lower, upper = np.where(valid, lower, np.nan), np.where(valid, upper, np.nan)
    return lower[where].reshape(x.shape), upper[where].reshape(x.shape)


def byar(x, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Byar's approximation to the exact Poisson interval, for counts of 10 or more.

    lower = x(1 − 1/(9x) − z/(3√x))³, upper = (x + 1)(1 − 1/(9(x + 1)) + z/(3√(x + 1)))³
    Source: Breslow & Day (1987); PHEindicatormethods `byars_lower/upper`.
    Worked example: x = 50 → 37.108–65.920 at 95 %. Below about 10 events (where the PHE
    rule takes the exact interval instead) the lower limit can fall below 0, e.g. x = 1 at
    99.8 %; it is clamped at 0, the lowest possible count.
    """
    x = np.asarray(x, dtype=float)
    z = _z(confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        valid = x > 0
        xs = np.where(valid, x, 1.0)
        lower = xs * (1 - 1 / (9 * xs) - z / (3 * np.sqrt(xs))) ** 3
        upper = (xs + 1) * (1 - 1 / (9 * (xs + 1)) + z / (3 * np.sqrt(xs + 1))) ** 3
    return np.where(valid, np.maximum(lower, 0.0), np.nan), np.where(valid, upper, np.nan)


def poisson(x, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact below 10 events and Byar's from 10 (the PHE rule). Returns (lower, upper, method)."""
    x = np.asarray(x, dtype=float)
    use_exact = x < EXACT_BELOW
    # The exact limits only where they are used: their quantiles are the slow part.
    exact_lo, exact_hi = exact_poisson(np.where(use_exact, x, 0.0), confidence)
    byar_lo, byar_hi = byar(x, confidence)
    method = np.where(np.isnan(x), "none", np.where(use_exact, "exact_poisson", "byar"))
    return np.where(use_exact, exact_lo, byar_lo), np.where(use_exact, exact_hi, byar_hi), method


def student_t(mean, sd, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Student t interval for a mean: mean ± t(1 − α/2; n − 1) · sd/√n.

    Source: PHEindicatormethods `phe_mean`. Needs n ≥ 2 and a standard deviation.
    """
    mean, sd, n = (np.asarray(a, dtype=float) for a in (mean, sd, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        valid = (n >= 2) & (sd >= 0)
        half = stats.t.ppf(1 - (1 - confidence) / 2, np.where(valid, n - 1, 1)) * sd / np.sqrt(n)
    return np.where(valid, mean - half, np.nan), np.where(valid, mean + half, np.nan)


def _col(frame: pl.DataFrame, name: str) -> np.ndarray:
    return frame[name].cast(pl.Float64).fill_null(float("nan")).to_numpy()


def add_intervals(facts: pl.DataFrame) -> pl.DataFrame:
    """Add lower/upper limits at 95 % and 99.8 % and `ci_method` to fact rows.

    Needs columns value, numerator, denominator, multiplier, value_type, ci_method_catalog,
    status. Rows whose inputs do not allow an interval get `ci_method = "none"`. A row with
    an `effective_n` (a weighted survey share) gets the Wilson interval of its share with
    that effective sample size (`wilson_weighted`).
    """
    x, n = _col(facts, "numerator"), _col(facts, "denominator")
    if "effective_n" in facts.columns:
        effective = _col(facts, "effective_n")
        weighted = np.isfinite(effective)
        share = _col(facts, "value") / np.where(_col(facts, "multiplier") > 0, _col(facts, "multiplier"), np.nan)
        x = np.where(weighted, share * effective, x)
        n = np.where(weighted, effective, n)
    mult = _col(facts, "multiplier")
    kind = facts["value_type"].to_numpy()
    wanted = facts["ci_method_catalog"].to_numpy()
    ok = (facts["status"] == "ok").to_numpy()
    limits = {}
    methods = np.full(facts.height, "none", dtype=object)
    for label, confidence in (("95", 0.95), ("998", 0.998)):
        lo = np.full(facts.height, np.nan)
        hi = np.full(facts.height, np.nan)
        use = ok & (wanted == "wilson")
        w_lo, w_hi = wilson(x, n, confidence)
        lo = np.where(use, w_lo * mult, lo)
        hi = np.where(use, w_hi * mult, hi)
        methods = np.where(use & ~np.isnan(w_lo), "wilson", methods)
        use = ok & (wanted == "byar_exact")
        p_lo, p_hi, p_method = poisson(x, confidence)
        scale = np.where(kind == "count", 1.0, mult / np.where(n > 0, n, np.nan))
        lo = np.where(use, p_lo * scale, lo)
        hi = np.where(use, p_hi * scale, hi)
        methods = np.where(use & ~np.isnan(p_lo * scale), p_method, methods)
        limits[label] = (lo, hi)
    return facts.with_columns(
        lower_95=pl.Series(limits["95"][0]).fill_nan(None),
        upper_95=pl.Series(limits["95"][1]).fill_nan(None),
        lower_998=pl.Series(limits["998"][0]).fill_nan(None),
        upper_998=pl.Series(limits["998"][1]).fill_nan(None),
        ci_method=pl.Series(methods.astype(str)),
    )
