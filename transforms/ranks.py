"""Rank views: relative position among the municipalities, never significance.

Kolada colours municipalities by rank: best quarter green, middle half yellow, worst quarter
red, and warns that this says nothing about whether a result is good. Fingertips offers
quintiles. Both come from the same quantile rule (PHEindicatormethods `phe_quantile`,
after OHID "Assigning Deprivation Categories"):

    rank = rank(value, ties = "min")            (rank(−value) when high is best)
    q    = floor((nq + 1) − ceil(((N + 1) − rank) / (N / nq))),  q ≥ 1

so quantile 1 holds the best (or, without a direction, the lowest) values.
"""

from __future__ import annotations

import polars as pl

QUARTILE_BANDS = {1: "best_25", 2: "middle_50", 3: "middle_50", 4: "worst_25"}
NEUTRAL_BANDS = {1: "lowest_25", 2: "middle_50", 3: "middle_50", 4: "highest_25"}


def quantile_expr(value: pl.Expr, nq: int, *, best_high: pl.Expr, group: list[str]) -> pl.Expr:
    """The quantile (1 = best/lowest) of `value` within `group`; null where it has no value
    or the group has fewer than `nq` values."""
    ordered = pl.when(best_high).then(-value).otherwise(value)
    n = value.count().over(group)
    rank = ordered.rank(method="min").over(group)
    q = ((nq + 1) - ((n + 1 - rank) / (n / nq)).ceil()).floor().clip(lower_bound=1)
    return pl.when(value.is_not_null() & (n >= nq)).then(q.cast(pl.Int8))


def add_rank_views(facts: pl.DataFrame) -> pl.DataFrame:
    """Add `quintile` (1–5) and `rank_band` to kommun rows with a value.

    Kommuner are ranked against all kommuner for the same indicator, year, sex and
    breakdown. Polarity decides what 'best' means; without one, 1 is the lowest value.
    """
    group = ["indicator_id", "period", "sex", "breakdown"]
    ranked = pl.col("area_type") == "kommun"
    value = pl.when(ranked & (pl.col("status") == "ok")).then(pl.col("value"))
    best_high = pl.col("polarity") == "high_is_good"
    judged = pl.col("polarity").is_in(["high_is_good", "low_is_good"])
    quartile = quantile_expr(value, 4, best_high=best_high, group=group)
    band = (pl.when(judged).then(quartile.replace_strict(QUARTILE_BANDS, default=None))
            .otherwise(quartile.replace_strict(NEUTRAL_BANDS, default=None)))
    return facts.with_columns(
        quintile=quantile_expr(value, 5, best_high=best_high, group=group),
        rank_band=band,
    )
