"""Benchmark comparisons: is the benchmark outside the area's interval?

The OHID rule with two confidence levels (Fingertips comparator 17): the benchmark inside
the 95 % interval is *similar*; outside the 95 % but inside the 99.8 % interval is
*better*/*worse*; outside the 99.8 % interval is *much better*/*much worse*. Polarity
decides which side is better; where no direction is good the words are lower/similar/higher.
Without an interval, a benchmark or a polarity the result is *not_compared*.
"""

from __future__ import annotations

import polars as pl

BETTER_WORSE = ("high_is_good", "low_is_good")


def classify(value_lo95: pl.Expr, value_hi95: pl.Expr, value_lo998: pl.Expr,
             value_hi998: pl.Expr, benchmark: pl.Expr, polarity: pl.Expr) -> pl.Expr:
    """The comparison category of an area against a benchmark value."""
    above_95 = benchmark < value_lo95      # area significantly higher than benchmark
    below_95 = benchmark > value_hi95
    above_998 = benchmark < value_lo998
    below_998 = benchmark > value_hi998
    high_good = polarity == "high_is_good"
    missing = (value_lo95.is_null() | value_hi95.is_null() | benchmark.is_null()
               | polarity.is_null() | ~polarity.is_in(["high_is_good", "low_is_good", "no_judgement"]))
    return (
        pl.when(missing).then(pl.lit("not_compared"))
        .when(polarity == "no_judgement")
        .then(pl.when(above_95).then(pl.lit("higher"))
              .when(below_95).then(pl.lit("lower"))
              .otherwise(pl.lit("similar")))
        .when(above_998).then(pl.when(high_good).then(pl.lit("much_better")).otherwise(pl.lit("much_worse")))
        .when(above_95).then(pl.when(high_good).then(pl.lit("better")).otherwise(pl.lit("worse")))
        .when(below_998).then(pl.when(high_good).then(pl.lit("much_worse")).otherwise(pl.lit("much_better")))
        .when(below_95).then(pl.when(high_good).then(pl.lit("worse")).otherwise(pl.lit("better")))
        .otherwise(pl.lit("similar"))
    )


def add_comparisons(facts: pl.DataFrame, areas: pl.DataFrame) -> pl.DataFrame:
    """Add compared_to_lan and compared_to_riket to kommun and sub-region rows.

    `facts` needs lower/upper limits, value, status and polarity; `areas` is marts.area.
    """
    keys = ["indicator_id", "period", "sex", "breakdown"]
    ok_values = facts.filter(pl.col("status") == "ok")
    lan = ok_values.filter(pl.col("area_type") == "lan").select(
        *keys, lan_code="area_code", lan_value="value")
    riket = ok_values.filter(pl.col("area_type") == "riket").select(*keys, riket_value="value")
    limits = [pl.col("lower_95"), pl.col("upper_95"), pl.col("lower_998"), pl.col("upper_998")]
    compared = ~pl.col("area_type").is_in(["lan", "riket"])
    usable = pl.col("status") == "ok"
    return (
        facts.join(areas.select("area_code", parent_lan="lan_code"), on="area_code", how="left")
        .join(lan, left_on=[*keys, "parent_lan"], right_on=[*keys, "lan_code"], how="left")
        .join(riket, on=keys, how="left")
        .with_columns(
            compared_to_lan=pl.when(compared & usable)
            .then(classify(*limits, pl.col("lan_value"), pl.col("polarity")))
            .when(compared).then(pl.lit("not_compared")),
            compared_to_riket=pl.when((pl.col("area_type") != "riket") & usable)
            .then(classify(*limits, pl.col("riket_value"), pl.col("polarity")))
            .when(pl.col("area_type") != "riket").then(pl.lit("not_compared")),
        )
        .drop("parent_lan", "lan_value", "riket_value")
    )
