"""Assemble the central fact table (DESIGN.md §5) from kommun rows and aggregates."""

from __future__ import annotations

import polars as pl

from transforms.compare import add_comparisons
from transforms.intervals import add_intervals
from transforms.peers import peer_values
from transforms.pooling import add_pooled_rows
from transforms.ranks import add_rank_views
from transforms.trend import add_trends

AREA_ORDER = {"riket": 0, "total": 0, "lan": 1, "subregion": 2, "kommun": 3}

FACT_COLUMNS = [
    "indicator_id", "area_code", "area_type", "period", "sex", "breakdown", "numerator",
    "denominator", "value", "unit", "lower_95", "upper_95", "lower_998", "upper_998",
    "ci_method", "ci_approximate", "status", "status_reason", "stale", "value_note", "coverage",
    "compared_to_lan",
    "compared_to_riket", "compared_to_rest_of_lan", "compared_to_rest_of_riket",
    "compared_to_peers", "peer_value", "rank_band", "quintile", "trend", "trend_chi2", "red_red",
    "source_id", "source_title", "fetched_at", "run_id",
]

WORSE = ["worse", "much_worse"]


def sort_facts(facts: pl.DataFrame) -> pl.DataFrame:
    """The stable order every consumer sees: indicator, area level, area, period, sex."""
    return (facts.with_columns(_order=pl.col("area_type").replace_strict(AREA_ORDER,
                                                                          return_dtype=pl.Int8))
            .sort("indicator_id", "_order", "area_code", "period", "sex", "breakdown")
            .drop("_order"))


def catalog_meta(catalog: pl.DataFrame) -> pl.DataFrame:
    """The catalogue columns the statistics need, keyed by indicator_id."""
    return catalog.select("indicator_id", "unit", "multiplier", "value_type", "polarity",
                          ci_method_catalog="ci_method",
                          source_id=pl.format("{}:{}", pl.col("source"), pl.col("source_id")))


def survey_rows(survey: pl.DataFrame) -> pl.DataFrame:
    """Survey cells (staging.survey_value) in the shape of the other fact rows.

    Their län and all-respondent rows come from the survey's own unsuppressed counts, so
    they are used as they are rather than rebuilt from (partly hidden) kommun cells.
    """
    return survey.select(
        "indicator_id", "area_code", "area_type", "period", "sex", "breakdown", "value",
        "numerator", "denominator", "status", "status_reason", "fetched_at",
        # A weighted share's interval rests on Kish's effective sample size (approximate).
        effective_n=pl.col("effective_n") if "effective_n" in survey.columns else pl.lit(None, pl.Float64),
        ci_approximate=pl.col("effective_n").is_not_null() if "effective_n" in survey.columns else pl.lit(False),
        value_note=pl.lit(None, dtype=pl.String),
        coverage=pl.lit(None, dtype=pl.Float64),
        source_title="source_title",  # the survey and wave, never a vendor's file name
    )


def mark_stale(facts: pl.DataFrame, stale: pl.DataFrame | None) -> pl.DataFrame:
    """`stale` and the reason on every row of an indicator whose values are kept from the
    last good vintage (`stale`: indicator_id, stale_reason)."""
    if stale is None or stale.is_empty():
        return facts.with_columns(stale=pl.lit(False))
    reasons = stale.select("indicator_id", "stale_reason").unique("indicator_id")
    return (facts.join(reasons, on="indicator_id", how="left")
            .with_columns(stale=pl.col("stale_reason").is_not_null(),
                          status_reason=pl.concat_str(["status_reason", "stale_reason"],
                                                      separator="; ", ignore_nulls=True)
                          .replace("", None))
            .drop("stale_reason"))


# Indicators computed together: every step works within one indicator, so doing them a
# group at a time gives the same table with a peak memory that does not grow with the
# catalogue (300 indicators at once need several GB for the trend windows alone).
CHUNK = 12


def indicator_groups(*frames: pl.DataFrame | None, size: int = CHUNK) -> list[list[str]]:
    """The indicator ids of `frames` (None skipped), sorted, in groups of `size`."""
    ids = sorted(set().union(*(f["indicator_id"].unique().to_list() for f in frames if f is not None)))
    return [ids[start:start + size] for start in range(0, len(ids), size)]


def build_facts(kommun_rows: pl.DataFrame, aggregates: pl.DataFrame, catalog: pl.DataFrame,
                areas: pl.DataFrame, run_id: str, peer_groups: pl.DataFrame | None = None,
                survey: pl.DataFrame | None = None,
                stale: pl.DataFrame | None = None, chunk: int = CHUNK) -> pl.DataFrame:
    """The fact table: values, intervals, comparisons, rank views and trends for every area.

    Steps: annual rows (kommun + aggregates, survey cells) and pooled rows → intervals →
    comparisons with län, riket (all respondents for surveys), the rest of each, and similar
    kommuner → rank bands and quintiles → trends → the red–red flag → stale marks; for
    `chunk` indicators at a time.
    """
    groups = indicator_groups(kommun_rows, aggregates, survey, size=chunk)
    if len(groups) <= 1:
        return _build_facts(kommun_rows, aggregates, catalog, areas, run_id, peer_groups, survey, stale)
    parts = []
    for group in groups:
        wanted = pl.col("indicator_id").is_in(group)
        parts.append(_build_facts(kommun_rows.filter(wanted), aggregates.filter(wanted), catalog,
                                  areas, run_id, peer_groups,
                                  survey.filter(wanted) if survey is not None else None, stale))
    # Each part is sorted and holds a run of sorted indicator ids: together they are sorted.
    return pl.concat(parts, rechunk=False)


def _build_facts(kommun_rows: pl.DataFrame, aggregates: pl.DataFrame, catalog: pl.DataFrame,
                 areas: pl.DataFrame, run_id: str, peer_groups: pl.DataFrame | None,
                 survey: pl.DataFrame | None, stale: pl.DataFrame | None) -> pl.DataFrame:
    rows = pl.concat(
        [
            kommun_rows.with_columns(area_type=pl.lit("kommun"),
                                     coverage=pl.lit(None, dtype=pl.Float64)),
            aggregates,
        ],
        how="diagonal",
    ).with_columns(breakdown=pl.lit("all"))
    if survey is not None and survey.height:
        rows = pl.concat([rows, survey_rows(survey)], how="diagonal_relaxed")
    rows = add_pooled_rows(rows, catalog)
    with_ci = add_intervals(rows.join(catalog_meta(catalog), on="indicator_id", how="left"))
    with_ci = with_ci.with_columns(
        status_reason=pl.when((pl.col("status") == "ok") & (pl.col("ci_method") == "none")
                              & (pl.col("ci_method_catalog") == "wilson")
                              & (pl.col("numerator") > pl.col("denominator")))
        .then(pl.lit("värdet överstiger 100 %; inget intervall"))
        .otherwise("status_reason"))
    peers = peer_values(with_ci, peer_groups) if peer_groups is not None else None
    facts = add_trends(add_rank_views(add_comparisons(with_ci, areas, peers)))
    facts = mark_stale(facts, stale).with_columns(
        red_red=(pl.col("compared_to_riket").is_in(WORSE)
                 & pl.col("trend").str.ends_with("_worse")).fill_null(False),
        run_id=pl.lit(run_id),
    ).select(FACT_COLUMNS)
    return sort_facts(facts)
