"""Län, riket and sub-region values recomputed from kommun numerators and denominators.

An aggregate is Σnumerator / Σdenominator over the member kommuner with a value, never a
mean of rates (Kolada's group values are unweighted means). Where the numerator is derived
from a value and a population, this is the population-weighted mean of the values. Members
without a value (suppressed, missing) leave a gap; the share of the population behind the
figure is kept as `coverage`, and a figure resting on too little of it is not shown.
"""

from __future__ import annotations

import polars as pl

from transforms.disclosure import small_count, small_count_reason
from transforms.population import band_expr, carry_forward

MIN_COVERAGE = 0.3


def area_weights(membership: pl.DataFrame, population: pl.DataFrame) -> pl.DataFrame:
    """Each aggregate area's full population per year, sex and band, and its member count.

    `population` may hold borrowed years (see population.carry_forward)."""
    members = membership.group_by("area_code").agg(n_members_all=pl.len())
    return (
        membership.join(population, left_on="kommun_code", right_on="area_code", how="inner")
        .group_by("area_code", "year", "sex", "band")
        .agg(population_all=pl.col("population").sum())
        .join(members, on="area_code", how="left")
    )


def aggregate_areas(kommun_rows: pl.DataFrame, membership: pl.DataFrame,
                    catalog: pl.DataFrame, population: pl.DataFrame,
                    min_coverage: float = MIN_COVERAGE) -> pl.DataFrame:
    """Aggregate kommun rows (staging.kommun_value) to every area in `membership`.

    `population` (staging.population) gives each area's whole population in the
    indicator's band, so coverage counts kommuner that have no row at all as well. A year
    SCB has not yet published borrows the latest published population, as the kommun rows
    do, and keeps their note.
    """
    population = carry_forward(population, kommun_rows["period"].unique().to_list())
    meta = catalog.select("indicator_id", "value_type", "multiplier", "source_measure",
                          "suppress_count_min", "suppress_count_max", band=band_expr())
    usable = (pl.col("status") == "ok") & pl.col("numerator").is_not_null()
    is_count = pl.col("value_type") == "count"
    usable = usable & (is_count | pl.col("denominator").is_not_null())
    weight = pl.when(is_count).then(pl.lit(1.0)).otherwise(pl.col("denominator"))
    with_meta = kommun_rows.join(meta.select("indicator_id", "value_type"), on="indicator_id", how="left")
    # What is the same for every member (the indicator's catalogue entry, its source title and
    # fetch time, a borrowed population year's note) is joined once instead of aggregated.
    per_indicator = (kommun_rows.group_by("indicator_id")
                     .agg(source_title=pl.col("source_title").drop_nulls().min(),
                          fetched_at=pl.col("fetched_at").max()))
    notes = (with_meta.filter(usable & pl.col("value_note").is_not_null())
             .group_by("indicator_id", "period", "sex").agg(value_note=pl.col("value_note").min()))
    grouped = (
        with_meta.join(membership, left_on="area_code", right_on="kommun_code", how="inner",
                       suffix="_agg", maintain_order="left")  # Σ in one order every run
        .group_by("indicator_id", "area_code_agg", "area_type", "period", "sex")
        .agg(
            numerator=pl.col("numerator").filter(usable).sum(),
            denominator=pl.col("denominator").filter(usable).sum(),
            weight_used=weight.filter(usable).sum(),
            n_used=usable.sum(),
            n_members=pl.len(),
            ci_approximate=pl.col("ci_approximate").filter(usable).any(),
            perturbed=pl.col("perturbed").any(),
        )
        .join(meta, on="indicator_id", how="left")
        .join(per_indicator, on="indicator_id", how="left")
        .join(notes, on=["indicator_id", "period", "sex"], how="left")
        .filter(pl.col("n_used") > 0)
        .join(area_weights(membership, population),
              left_on=["area_code_agg", "period", "sex", "band"],
              right_on=["area_code", "year", "sex", "band"], how="left")
        .with_columns(
            n_members=pl.col("n_members_all").fill_null(pl.col("n_members")),
            weight_all=pl.when(pl.col("value_type") == "count")
            .then(pl.col("n_members_all").cast(pl.Float64))
            .otherwise(pl.col("population_all")),
        )
    )
    coverage = pl.when(pl.col("weight_all") > 0).then(pl.col("weight_used") / pl.col("weight_all"))
    is_count = pl.col("value_type") == "count"
    value = (pl.when(is_count).then(pl.col("numerator"))
             .when(pl.col("denominator") > 0)
             .then(pl.col("numerator") / pl.col("denominator") * pl.col("multiplier")))
    low_coverage = pl.col("coverage") < min_coverage
    # Counts a source published (or the counts behind a rate) are checked; derived
    # numerators only repeat the source's published values.
    small = (is_count | (pl.col("source_measure") == "count")) & small_count(pl.col("numerator"))
    partial = pl.format("täckning {} % av befolkningen ({} av {} kommuner)",
                        (pl.col("coverage") * 100).round(0).cast(pl.Int64),
                        pl.col("n_used"), pl.col("n_members"))
    return (
        grouped.with_columns(coverage=coverage.clip(0.0, 1.0), value=value)
        .with_columns(
            status=pl.when(low_coverage).then(pl.lit("missing"))
            .when(small).then(pl.lit("suppressed"))
            .when(pl.col("value").is_null()).then(pl.lit("missing"))
            .otherwise(pl.lit("ok")),
            status_reason=pl.when(low_coverage).then(pl.format("för låg {}", partial))
            .when(small).then(small_count_reason())
            .when(pl.col("value").is_null()).then(pl.lit("nämnare saknas"))
            .when(pl.col("n_used") < pl.col("n_members")).then(partial),
        )
        .with_columns(
            value=pl.when(pl.col("status") == "ok").then("value"),
            numerator=pl.when(pl.col("status") == "ok").then("numerator"),
            denominator=pl.when(is_count).then(None).otherwise("denominator"),
        )
        .select(
            "indicator_id", pl.col("area_code_agg").alias("area_code"), "area_type", "period",
            "sex", "value", pl.col("numerator").cast(pl.Float64),
            pl.col("denominator").cast(pl.Float64), "ci_approximate", "perturbed", "status",
            "status_reason", pl.when(pl.col("status") == "ok").then("value_note").alias("value_note"),
            "coverage", "source_title", "fetched_at",
        )
        .sort("indicator_id", "area_type", "area_code", "period", "sex")
    )
