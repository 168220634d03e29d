"""Funnel-plot control limits around the national value, with an over-dispersion option.

For a proportion the limit at denominator N is the observed proportion whose Wilson interval
just touches the benchmark p̄ (PHEindicatormethods `Funnels.R`):

    first = p̄ (N/z² + 1)
    adj   = sqrt((−8 p̄ (N/z² + 1))² − 64 (1/z² + 1/N) p̄ (N (p̄ (N/z² + 2) − 1) + z² (p̄ − 1)))
    limit = ((first ∓ adj/8) / (1/z² + 1/N)) / N

so a municipality outside the limits is exactly one whose interval excludes the benchmark.
Limits are clamped to 0–100 %: at small N the formula leaves the possible range.
Worked example: p̄ = 12 %, N = 200 → 7.50–16.50 % (95 %), 4.90–19.10 % (99.8 %).

For a rate the limits are the counts whose exact Poisson interval just touches the expected
count E = rate × N (inverting the χ² form of the exact interval), divided by N.

Over-dispersion (Spiegelhalter 2005, FunnelPlotR `od_adjustment`): z-scores on a
variance-stabilising scale (asin √p for proportions, √rate for rates), winsorised at the
10th and 90th percentiles; φ = Σz²/k; τ² = max(0, (kφ − (k − 1)) / (Σw − Σw²/Σw)) with
w = 1/s²; limits = back-transform(target ± z·sqrt(s² + τ²)).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import special

from transforms.compare import NATIONAL
from transforms.intervals import Z95, Z998

GRID_POINTS = 60
WINSORISE = 0.10


def wilson_funnel(p_bar: float, n, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper funnel limits (fractions) for a proportion at denominators n."""
    n = np.asarray(n, dtype=float)
    z2 = z * z
    first = p_bar * (n / z2 + 1)
    adj = np.sqrt((-8 * p_bar * (n / z2 + 1)) ** 2
                  - 64 * (1 / z2 + 1 / n) * p_bar * (n * (p_bar * (n / z2 + 2) - 1) + z2 * (p_bar - 1)))
    scale = (1 / z2 + 1 / n) * n
    # At small n no observed share can fall below (or above) the benchmark's reach: the
    # formula then leaves 0–1, and the limit is the end of the possible range.
    return np.clip((first - adj / 8) / scale, 0.0, 1.0), np.clip((first + adj / 8) / scale, 0.0, 1.0)


def poisson_funnel(rate: float, n, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper funnel limits (events per unit of n) for a rate at denominators n.

    Lower: the count O whose exact upper limit χ²(1 − α/2; 2O + 2)/2 equals E.
    Upper: the count O whose exact lower limit χ²(α/2; 2O)/2 equals E.
    """
    n = np.asarray(n, dtype=float)
    expected = rate * n
    alpha = 1 - confidence
    with np.errstate(invalid="ignore"):
        lower = np.maximum(special.chdtriv(1 - alpha / 2, 2 * expected) / 2 - 1, 0.0)
        upper = special.chdtriv(alpha / 2, 2 * expected) / 2
    return lower / n, upper / n


def overdispersion(y: np.ndarray, s: np.ndarray, target: float,
                   winsorise: float = WINSORISE) -> tuple[float, float]:
    """(φ, τ²) from values y with standard errors s around target, on a stabilised scale."""
    keep = np.isfinite(y) & np.isfinite(s) & (s > 0)
    y, s = y[keep], s[keep]
    k = y.size
    if k < 3:
        return float("nan"), 0.0
    z = (y - target) / s
    low, high = np.quantile(z, [winsorise, 1 - winsorise])
    z = np.clip(z, low, high)
    phi = float((z ** 2).sum() / k)
    w = 1 / s ** 2
    if k * phi < k - 1:
        return phi, 0.0
    tau2 = (k * phi - (k - 1)) / (w.sum() - (w ** 2).sum() / w.sum())
    return phi, float(max(0.0, tau2))


# The fact columns funnel_limits reads (besides multiplier, value_type, ci_method_catalog
# from the catalogue): a wide mart is loaded with these only.
FACT_COLUMNS = ["indicator_id", "period", "sex", "breakdown", "area_type", "area_code", "status",
                "numerator", "denominator"]


def funnel_limits(facts: pl.DataFrame, grid_points: int = GRID_POINTS) -> pl.DataFrame:
    """Funnel limits for every indicator, year, sex and breakdown with a national value
    (riket, or all respondents of a survey).

    Rows: one per point of a log-spaced denominator grid spanning the kommuner, with the
    benchmark, plain and over-dispersion-adjusted 95 % and 99.8 % limits (in the
    indicator's unit), φ and τ². Needs the fact rows with multiplier, value_type, ci_method.
    """
    keys = ["indicator_id", "period", "sex", "breakdown"]
    usable = facts.filter(pl.col("ci_method_catalog").is_in(["wilson", "byar_exact"])
                          & (pl.col("value_type") != "count"))
    riket = usable.filter(pl.col("area_type").is_in(NATIONAL) & (pl.col("status") == "ok")
                          & (pl.col("denominator") > 0)).select(
        *keys, benchmark_num="numerator", benchmark_den="denominator")
    kommun = usable.filter((pl.col("area_type") == "kommun") & (pl.col("status") == "ok")
                           & (pl.col("denominator") > 0))
    out: dict[str, list] = {}  # the columns, a part per (indicator, year, sex, breakdown)
    # φ and τ² are float sums over the kommuner: in one fixed order, the same bits every run.
    joined = kommun.join(riket, on=keys, how="inner").sort(*keys, "area_code")
    for group in joined.partition_by(keys, maintain_order=True):
        meta = group.row(0, named=True)
        key = [meta[k] for k in keys]
        mult = meta["multiplier"]
        target = meta["benchmark_num"] / meta["benchmark_den"]
        is_proportion = meta["ci_method_catalog"] == "wilson"
        if is_proportion and not 0 <= target <= 1:
            # A national "share" above 100 % (children enrolled in another kommun's
            # preschool) has no binomial funnel: that year is drawn without one.
            continue
        den = group["denominator"].to_numpy()
        p = group["numerator"].to_numpy() / den
        grid = np.geomspace(max(den.min(), 1.0), den.max() * 1.05, grid_points)
        if is_proportion:
            y, s, tgt = np.arcsin(np.sqrt(np.clip(p, 0, 1))), 1 / (2 * np.sqrt(den)), np.arcsin(np.sqrt(target))
            limits = {c: wilson_funnel(target, grid, z) for c, z in (("95", Z95), ("998", Z998))}
            back = lambda v: np.sin(np.clip(v, 0, np.pi / 2)) ** 2
        else:
            y, s, tgt = np.sqrt(p), 1 / (2 * np.sqrt(den)), np.sqrt(target)
            limits = {c: poisson_funnel(target, grid, conf) for c, conf in (("95", 0.95), ("998", 0.998))}
            back = lambda v: np.maximum(v, 0) ** 2
        phi, tau2 = overdispersion(y, s, tgt)
        grid_s = 1 / (2 * np.sqrt(grid))
        adjusted = {c: (back(tgt - z * np.sqrt(grid_s ** 2 + tau2)), back(tgt + z * np.sqrt(grid_s ** 2 + tau2)))
                    for c, z in (("95", Z95), ("998", Z998))}
        part = {
            **{k: [v] * grid_points for k, v in zip(keys, key, strict=True)},
            "denominator": grid,
            "benchmark": np.full(grid_points, target * mult),
            "lower_95": limits["95"][0] * mult, "upper_95": limits["95"][1] * mult,
            "lower_998": limits["998"][0] * mult, "upper_998": limits["998"][1] * mult,
            "lower_95_od": adjusted["95"][0] * mult, "upper_95_od": adjusted["95"][1] * mult,
            "lower_998_od": adjusted["998"][0] * mult, "upper_998_od": adjusted["998"][1] * mult,
            "phi": np.full(grid_points, phi), "tau2": np.full(grid_points, tau2),
            "method": ["wilson" if is_proportion else "exact_poisson"] * grid_points,
        }
        for name, values in part.items():
            out.setdefault(name, []).append(values)
    if not out:
        return pl.DataFrame(schema=FUNNEL_SCHEMA)
    # One frame from whole columns: a frame per part cost more than the limits themselves.
    columns = {name: np.concatenate(parts) if isinstance(parts[0], np.ndarray)
               else [v for part in parts for v in part] for name, parts in out.items()}
    return pl.DataFrame(columns).cast(FUNNEL_SCHEMA).sort(*keys, "denominator")


FUNNEL_SCHEMA = {
    "indicator_id": pl.String, "period": pl.Int32, "sex": pl.String, "breakdown": pl.String,
    "denominator": pl.Float64, "benchmark": pl.Float64,
    "lower_95": pl.Float64, "upper_95": pl.Float64, "lower_998": pl.Float64, "upper_998": pl.Float64,
    "lower_95_od": pl.Float64, "upper_95_od": pl.Float64, "lower_998_od": pl.Float64,
    "upper_998_od": pl.Float64, "phi": pl.Float64, "tau2": pl.Float64, "method": pl.String,
}
