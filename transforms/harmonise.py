"""From Kolada's values to harmonised kommun rows with numerators and denominators.

Kolada gives a value per kommun; for the län and riket figures and for intervals we need
numerators and denominators. Where the catalogue says the source value is a count, the
count is the numerator and SCB's population the denominator. Otherwise the denominator is
SCB's population for the indicator's age band and the numerator is derived from the value
(value / multiplier × denominator); such rows are marked `ci_approximate`. Where SCB has not
yet published the year's population, the latest published one stands in and `value_note`
says so.
"""

from __future__ import annotations

import polars as pl

from transforms.disclosure import small_count, small_count_reason
from transforms.population import band_expr, carry_forward, lag_note

KOLADA_STATUS = {
    "Privacy": ("suppressed", "Kolada: dolt av sekretesskäl (Privacy)"),
    "Missing": ("missing", "Kolada: värde saknas"),
    "Not applicable": ("not_applicable", "Kolada: ej tillämpligt"),
}


def _status() -> tuple[pl.Expr, pl.Expr]:
    """Our status and reason from Kolada's status code; an unknown code is carried along."""
    raw, value = pl.col("status"), pl.col("value")
    known = raw.is_in(list(KOLADA_STATUS))
    mapped = lambda i: raw.replace_strict({k: v[i] for k, v in KOLADA_STATUS.items()}, default=None)
    status = (pl.when(known).then(mapped(0)).when(value.is_null()).then(pl.lit("missing"))
              .otherwise(pl.lit("ok")))
    reason = (pl.when(known).then(mapped(1)).when(value.is_null()).then(pl.lit("Kolada: värde saknas"))
              .when(raw != "").then(pl.format("Kolada-status: {}", raw)))
    return status, reason


def kommun_values(values: pl.DataFrame, catalog: pl.DataFrame, kpis: pl.DataFrame,
                  population: pl.DataFrame, kommun_codes: list[str]) -> pl.DataFrame:
    """Harmonised kommun rows for every catalogue indicator from Kolada.

    `values` is raw.kolada_value, `catalog` raw.indicator_catalog, `kpis` raw.kolada_kpi,
    `population` staging.population.
    """
    # Only the catalogue columns the rules read: the texts would be copied onto every row.
    kolada = catalog.filter(pl.col("source") == "kolada").select(
        "indicator_id", "source_id", "value_type", "source_measure", "multiplier",
        "min_denominator", "suppress_count_min", "suppress_count_max", band=band_expr())
    status, reason = _status()
    rows = (
        values.filter(~pl.col("isdeleted") & pl.col("municipality").is_in(kommun_codes))
        .drop("response_sha256", strict=False)
        .join(kolada, left_on="kpi", right_on="source_id", how="inner")
        .join(kpis.select("kpi_id", source_title="title"), left_on="kpi", right_on="kpi_id",
              how="left")
        .with_columns(status=status, status_reason=reason)
        .with_columns(value=pl.when(pl.col("status") == "ok").then("value"))
        .join(carry_forward(population, values["period"].unique().to_list()),
              left_on=["municipality", "period", "gender", "band"],
              right_on=["area_code", "year", "sex", "band"], how="left")
    )
    is_count_source = pl.col("source_measure") == "count"
    is_count_value = pl.col("value_type") == "count"
    source_count = pl.when(is_count_source | is_count_value).then(pl.col("value"))
    denominator = pl.when(is_count_value).then(None).otherwise(pl.col("population"))
    numerator = (pl.when(is_count_source | is_count_value).then(pl.col("value"))
                 .otherwise(pl.col("value") / pl.col("multiplier") * pl.col("population")))
    value = (pl.when(is_count_source)
             .then(pl.col("value") / pl.col("population") * pl.col("multiplier"))
             .otherwise(pl.col("value")))
    uses_population = ~is_count_value & pl.col("population").is_not_null()
    rows = rows.with_columns(source_count=source_count, numerator=numerator,
                             denominator=denominator, value=value,
                             value_note=pl.when(uses_population).then(
                                 lag_note(pl.col("period"), pl.col("population_year"), is_count_source)))
    rows = _disclosure(rows)
    return (
        rows.select(
            "indicator_id",
            area_code="municipality",
            period=pl.col("period").cast(pl.Int32),
            sex="gender",
            value="value",
            numerator=pl.col("numerator").cast(pl.Float64),
            denominator=pl.col("denominator").cast(pl.Float64),
            ci_approximate=(~is_count_source & ~is_count_value & pl.col("numerator").is_not_null())
            | (pl.col("value_note").is_not_null() & pl.col("numerator").is_not_null()),
            perturbed=pl.col("perturbed").fill_null(False),
            status="status",
            status_reason="status_reason",
            value_note=pl.when(pl.col("status") == "ok").then("value_note"),
            source_title="source_title",
            fetched_at="fetched_at",
        )
        .sort("indicator_id", "area_code", "period", "sex")
    )


def _disclosure(rows: pl.DataFrame) -> pl.DataFrame:
    """Apply each indicator's disclosure rule; a hidden value keeps its reason, never a 0.

    Counts inside [suppress_count_min, suppress_count_max] are hidden where the count is
    the source's own (derived numerators repeat what the source already chose to publish).
    A denominator below `min_denominator` also hides the value: too few to report.
    """
    ok = pl.col("status") == "ok"
    small = ok & pl.col("source_count").is_not_null() & small_count(pl.col("source_count"))
    small_base = (ok & pl.col("value_type").is_in(["proportion", "rate", "mean"])
                  & (pl.col("population") < pl.col("min_denominator")))
    hidden = small | small_base
    reason = (pl.when(small)
              .then(small_count_reason())
              .when(small_base)
              .then(pl.format("nämnaren är under {}", pl.col("min_denominator")))
              .otherwise(pl.col("status_reason")))
    return rows.with_columns(
        status=pl.when(hidden).then(pl.lit("suppressed")).otherwise("status"),
        status_reason=reason,
        value=pl.when(hidden).then(None).otherwise("value"),
        numerator=pl.when(hidden).then(None).otherwise("numerator"),
    ).with_columns(
        # Without a population there is nothing to divide by: say so rather than guess.
        status=pl.when((pl.col("status") == "ok") & pl.col("value").is_null())
        .then(pl.lit("missing")).otherwise("status"),
        status_reason=pl.when((pl.col("status") == "ok") & pl.col("value").is_null())
        .then(pl.lit("befolkning saknas för året")).otherwise("status_reason"),
    )
