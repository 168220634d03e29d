"""Pooled multi-year values for rare events in small municipalities.

For indicators whose catalogue entry sets `pooling_years` (for example 3), every area gets
an extra row per year with breakdown `pooled_<n>y`: the numerators and denominators of that
year and the previous n − 1 years added up, Σnum/Σden. Pooled rows overlap, so they are
left out of trend tests. A pooled row needs all n years with a value; otherwise it is
missing with the reason stored.
"""

from __future__ import annotations

import polars as pl

from transforms.disclosure import small_count, small_count_reason

SERIES = ["indicator_id", "area_code", "area_type", "sex"]


def pooled_breakdown(years: int) -> str:
    return f"pooled_{years}y"


def add_pooled_rows(rows: pl.DataFrame, catalog: pl.DataFrame) -> pl.DataFrame:
    """Append pooled rows to annual rows (kommun and aggregate rows before intervals).

    `rows` has indicator_id, area_code, area_type, period, sex, numerator, denominator,
    status, coverage, ci_approximate, source_title, fetched_at; `catalog` gives
    pooling_years, multiplier and value_type.
    """
    pooled_ids = catalog.filter(pl.col("pooling_years").is_not_null()
                                & (pl.col("value_type") != "count"))
    if pooled_ids.is_empty():
        return rows
    pieces = []
    for years, group in pooled_ids.group_by("pooling_years"):
        n = int(years[0])
        ids = group["indicator_id"].to_list()
        subset = (rows.filter(pl.col("indicator_id").is_in(ids) & (pl.col("breakdown") == "all"))
                  .join(catalog.select("indicator_id", "multiplier", "source_measure",
                                       "suppress_count_min", "suppress_count_max"),
                        on="indicator_id")
                  .sort(*SERIES, "period"))
        usable = ((pl.col("status") == "ok") & pl.col("numerator").is_not_null()
                  & pl.col("denominator").is_not_null()).cast(pl.Int32)
        window = lambda expr: expr.rolling_sum(n).over(SERIES)
        first = pl.col("period").shift(n - 1).over(SERIES)
        pooled = subset.with_columns(
            _num=window(pl.col("numerator").fill_null(0.0)),
            _den=window(pl.col("denominator").fill_null(0.0)),
            _ok=window(usable),
            _span=pl.col("period") - first,
            _coverage=pl.col("coverage").rolling_min(n).over(SERIES),
            _approx=pl.col("ci_approximate").cast(pl.Int32).rolling_max(n).over(SERIES) == 1,
        ).filter(pl.col("_span") == n - 1)
        complete = pl.col("_ok") == n
        small = (complete & (pl.col("source_measure") == "count")
                 & small_count(pl.col("_num")))
        shown = complete & ~small
        pieces.append(pooled.select(
            "indicator_id", "area_code", "area_type", "period", "sex",
            breakdown=pl.lit(pooled_breakdown(n)),
            numerator=pl.when(shown).then("_num"),
            denominator=pl.when(complete).then("_den"),
            value=pl.when(shown & (pl.col("_den") > 0))
            .then(pl.col("_num") / pl.col("_den") * pl.col("multiplier")),
            ci_approximate="_approx",
            status=pl.when(shown).then(pl.lit("ok")).when(small).then(pl.lit("suppressed"))
            .otherwise(pl.lit("missing")),
            status_reason=pl.when(shown).then(pl.lit(f"{n} år sammanslagna, perioden slutar detta år"))
            .when(small).then(small_count_reason())
            .otherwise(pl.lit(f"minst ett av de {n} åren saknas eller är dolt")),
            coverage=pl.col("_coverage"),
            source_title="source_title",
            fetched_at="fetched_at",
        ))
    return pl.concat([rows, *pieces], how="diagonal_relaxed")
