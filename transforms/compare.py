"""Benchmark comparisons: is the benchmark outside the area's interval?

The OHID rule with two confidence levels (Fingertips comparator 17): the benchmark inside
the 95 % interval is *similar*; outside the 95 % but inside the 99.8 % interval is
*better*/*worse*; outside the 99.8 % interval is *much better*/*much worse*. Polarity
decides which side is better; where no direction is good the words are lower/similar/higher.
Without an interval, a benchmark or a polarity the result is *not_compared*.
"""

from __future__ import annotations

import polars as pl

# The national benchmark: riket for register data; for a survey, all its respondents (a
# survey rarely covers the whole country, so calling that "riket" would mislead).
NATIONAL = ["riket", "total"]


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


def add_comparisons(facts: pl.DataFrame, areas: pl.DataFrame,
                    peers: pl.DataFrame | None = None) -> pl.DataFrame:
    """Add comparisons of kommun and sub-region rows with their län and riket.

    * compared_to_lan / compared_to_riket: against the län's and riket's values (for survey
      indicators "riket" is the row of all respondents, area_type `total`);
    * compared_to_rest_of_lan / compared_to_rest_of_riket: against the rest of the län or
      riket, leaving out the area's own numerator and denominator, which matters where one
      kommun is a large part of its län (Stockholm, Göteborg, Malmö);
    * compared_to_peers: against the Σnum/Σden of the kommun's similar municipalities
      (`peers`: area_code, indicator_id, period, sex, breakdown, peer_value).

    `facts` needs lower/upper limits, value, numerator, denominator, multiplier, status and
    polarity; `areas` is marts.area.
    """
    keys = ["indicator_id", "period", "sex", "breakdown"]
    ok_values = facts.filter(pl.col("status") == "ok")
    lan = ok_values.filter(pl.col("area_type") == "lan").select(
        *keys, lan_code="area_code", lan_value="value", lan_num="numerator", lan_den="denominator")
    riket = ok_values.filter(pl.col("area_type").is_in(NATIONAL)).select(
        *keys, riket_value="value", riket_num="numerator", riket_den="denominator")
    limits = [pl.col("lower_95"), pl.col("upper_95"), pl.col("lower_998"), pl.col("upper_998")]
    sub_area = ~pl.col("area_type").is_in(["lan", *NATIONAL])
    below_national = ~pl.col("area_type").is_in(NATIONAL)
    usable = pl.col("status") == "ok"
    own = usable & pl.col("numerator").is_not_null() & pl.col("denominator").is_not_null()

    def rest(num: str, den: str) -> pl.Expr:
        rest_den = pl.col(den) - pl.col("denominator")
        return pl.when(own & (rest_den > 0)).then(
            (pl.col(num) - pl.col("numerator")) / rest_den * pl.col("multiplier"))

    def versus(benchmark: pl.Expr, applies: pl.Expr) -> pl.Expr:
        return (pl.when(applies & usable).then(classify(*limits, benchmark, pl.col("polarity")))
                .when(applies).then(pl.lit("not_compared")))

    out = (
        facts.join(areas.select("area_code", parent_lan="lan_code"), on="area_code", how="left")
        .join(lan, left_on=[*keys, "parent_lan"], right_on=[*keys, "lan_code"], how="left")
        .join(riket, on=keys, how="left")
        .with_columns(rest_of_lan=rest("lan_num", "lan_den"),
                      rest_of_riket=rest("riket_num", "riket_den"))
    )
    if peers is None:
        out = out.with_columns(peer_value=pl.lit(None, dtype=pl.Float64))
    else:
        out = out.join(peers.select("area_code", *keys, "peer_value"), on=["area_code", *keys],
                       how="left")
    is_kommun = pl.col("area_type") == "kommun"
    return out.with_columns(
        compared_to_lan=versus(pl.col("lan_value"), sub_area),
        compared_to_riket=versus(pl.col("riket_value"), below_national),
        compared_to_rest_of_lan=versus(pl.col("rest_of_lan"), sub_area),
        compared_to_rest_of_riket=versus(pl.col("rest_of_riket"), below_national),
        compared_to_peers=versus(pl.col("peer_value"), is_kommun),
    ).drop("parent_lan", "lan_value", "lan_num", "lan_den", "riket_value", "riket_num",
           "riket_den", "rest_of_lan", "rest_of_riket")
