"""Population denominators from SCB's single-year-of-age table.

SCB publishes a year's population later than Kolada publishes the year's values. Rather
than drop the newest year, `carry_forward` lends it the latest published population and
says which year that is (`population_year`), so intervals and aggregates exist and are
marked approximate with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

SEX_CODES = {"1": "M", "2": "K"}


def band_key(age_from: int | None, age_to: int | None) -> str:
    """The band label used to join indicators to populations: '0-19', or 'all'."""
    return "all" if age_from is None else f"{age_from}-{age_to}"


def band_expr(from_col: str = "population_from", to_col: str = "population_to") -> pl.Expr:
    return (pl.when(pl.col(from_col).is_null()).then(pl.lit("all"))
            .otherwise(pl.format("{}-{}", pl.col(from_col), pl.col(to_col))))


def population_bands(raw: pl.DataFrame, bands: Iterable[tuple[int | None, int | None]],
                     total_codes: set[str]) -> pl.DataFrame:
    """Population per kommun, year, sex (K, M and T = K + M) and age band.

    Age bands are sums of single years; 'all' is SCB's published total, which under the
    Cell Key Method is closer to the truth than a sum of perturbed parts.
    """
    people = raw.with_columns(sex=pl.col("sex_code").replace_strict(SEX_CODES))
    totals = people.filter(pl.col("age_code").is_in(sorted(total_codes)))
    single = people.filter(pl.col("age_code").str.contains(r"^\d+$")).with_columns(
        age=pl.col("age_code").cast(pl.Int32))
    frames = []
    for age_from, age_to in sorted(set(bands), key=lambda b: (b[0] is None, b)):
        if age_from is None:
            part = totals
        else:
            part = single.filter(pl.col("age").is_between(age_from, age_to))
        frames.append(
            part.group_by("region", "year", "sex")
            .agg(population=pl.col("population").sum(),
                 n_null=pl.col("population").null_count(),
                 n_ages=pl.len(),
                 perturbed=pl.col("perturbed").any())
            .with_columns(
                band=pl.lit(band_key(age_from, age_to)),
                # A band with a missing age, or missing ages, has no population at all.
                population=pl.when((pl.col("n_null") == 0) & (
                    pl.col("n_ages") == (1 if age_from is None else age_to - age_from + 1)))
                .then("population"),
            )
        )
    by_sex = pl.concat(frames).drop("n_null", "n_ages")
    total = (by_sex.group_by("region", "year", "band")
             .agg(population=pl.when(pl.col("population").null_count() == 0)
                  .then(pl.col("population").sum()),
                  perturbed=pl.col("perturbed").any(),
                  n=pl.len())
             .filter(pl.col("n") == 2)
             .drop("n")
             .with_columns(sex=pl.lit("T")))
    return (pl.concat([by_sex, total], how="diagonal")
            .select(area_code="region", year=pl.col("year").cast(pl.Int32), sex="sex",
                    band="band", population=pl.col("population").cast(pl.Float64),
                    perturbed="perturbed")
            .sort("area_code", "year", "sex", "band"))


def carry_forward(population: pl.DataFrame, years) -> pl.DataFrame:
    """staging.population plus `population_year`, extended to `years` after the last year
    SCB has: each later year borrows the latest published population of its area, sex and
    band. Years before the first published year are not invented."""
    have = population.with_columns(population_year=pl.col("year"))
    wanted = pl.DataFrame({"year": sorted(set(years))}, schema={"year": pl.Int32})
    latest = (population.filter(pl.col("population").is_not_null())
              .group_by("area_code", "sex", "band")
              .agg(pl.all().sort_by("year").last()))
    borrowed = (latest.rename({"year": "population_year"}).join(wanted, how="cross")
                .filter(pl.col("year") > pl.col("population_year"))
                .join(have.select("area_code", "sex", "band", "year"),
                      on=["area_code", "sex", "band", "year"], how="anti"))
    return pl.concat([have, borrowed.select(have.columns)], how="vertical_relaxed")


def lag_note(period: pl.Expr, population_year: pl.Expr, value_from_population: pl.Expr) -> pl.Expr:
    """Swedish note for a row whose population is borrowed from an earlier year (else null)."""
    lagging = population_year.is_not_null() & (population_year != period)
    what = pl.when(value_from_population).then(pl.lit("värdet och intervallet bygger"))\
        .otherwise(pl.lit("intervallet är ungefärligt och bygger"))
    return pl.when(lagging).then(pl.format(
        "SCB har ännu inte publicerat befolkningen {}; {} på befolkningen {}.",
        period, what, population_year))
