"""Assemble the central fact table (DESIGN.md §5) from kommun rows and aggregates."""

from __future__ import annotations

import polars as pl

from transforms.compare import add_comparisons
from transforms.intervals import add_intervals

AREA_ORDER = {"riket": 0, "lan": 1, "subregion": 2, "kommun": 3}

FACT_COLUMNS = [
    "indicator_id", "area_code", "area_type", "period", "sex", "breakdown", "numerator",
    "denominator", "value", "unit", "lower_95", "upper_95", "lower_998", "upper_998",
    "ci_method", "ci_approximate", "status", "status_reason", "coverage", "compared_to_lan",
    "compared_to_riket", "rank_band", "trend", "source_id", "source_title", "fetched_at",
    "run_id",
]


def sort_facts(facts: pl.DataFrame) -> pl.DataFrame:
    """The stable order every consumer sees: indicator, area level, area, period, sex."""
    return (facts.with_columns(_order=pl.col("area_type").replace_strict(AREA_ORDER,
                                                                          return_dtype=pl.Int8))
            .sort("indicator_id", "_order", "area_code", "period", "sex", "breakdown")
            .drop("_order"))


def build_facts(kommun_rows: pl.DataFrame, aggregates: pl.DataFrame, catalog: pl.DataFrame,
                areas: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """The fact table: values, intervals and comparisons for every area level."""
    meta = catalog.select("indicator_id", "unit", "multiplier", "value_type", "polarity",
                          ci_method_catalog="ci_method",
                          source_id=pl.format("{}:{}", pl.col("source"), pl.col("source_id")))
    rows = pl.concat(
        [
            kommun_rows.with_columns(area_type=pl.lit("kommun"),
                                     coverage=pl.lit(None, dtype=pl.Float64)),
            aggregates,
        ],
        how="diagonal",
    ).with_columns(breakdown=pl.lit("all"))
    with_meta = rows.join(meta, on="indicator_id", how="left")
    with_ci = add_intervals(with_meta)
    with_ci = with_ci.with_columns(
        status_reason=pl.when((pl.col("status") == "ok") & (pl.col("ci_method") == "none")
                              & (pl.col("ci_method_catalog") == "wilson")
                              & (pl.col("numerator") > pl.col("denominator")))
        .then(pl.lit("värdet överstiger 100 %; inget intervall"))
        .otherwise("status_reason"))
    compared = add_comparisons(with_ci, areas)
    facts = compared.with_columns(
        rank_band=pl.lit(None, dtype=pl.String),
        trend=pl.lit(None, dtype=pl.String),
        run_id=pl.lit(run_id),
    ).select(FACT_COLUMNS)
    return sort_facts(facts)
