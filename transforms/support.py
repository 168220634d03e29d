"""Support against need: who supports which kommun on which strategic factor, per year,
set against the need index.

Periods are calendar years, from the first year any support in the register is active (or
as configured) up to the build's year, never later: a grant that runs into next year counts
in the years it has run so far, and no future year is ever shown. The year the pages show
(`shown`) is the build's year unless the settings name another year for the county (never
a future one). A support row counts in a year when its start–end dates overlap the year;
its amount is spread over its days, so a 200 000 kr grant for 2025-07-01 to 2026-06-30
counts about 100 000 kr in each year. SEK per child divides by the kommun's population 0–19
that year (the nearest year with a population). Sums say how many financial supports
(`ekonomiskt_stod`) lack an amount: the sum is then what is known, a lower bound.

Support rows with a strategic factor count for that factor; every support row counts for
`overall` (also those given only a Preventionsstjärnan point).

Class, from the need index's probability p of being in the country's highest-need fifth,
with the thresholds every decision on need shares (`need_bands` in coordination.yaml; they
travel with each row as `high_need_from`, so the chart shades exactly the class):
- `no_need_data`: the kommun has no need score for the factor (too little data);
- p ≥ `high_need` (default 0.8): high need, with or without support;
- `uncertain_from` ≤ p < `high_need` (default 0.2–0.8): `uncertain`, its own class and
  never forced to either side: the data cannot tell whether the need is among the highest;
- p < `uncertain_from`: lower need, with much support (at least `min_actors` actors, or
  `min_supports` supports, or `min_sek_per_child` kr per child), some support, or none.

Overlap: several actors support the same kommun on the same factor in the same year (for
`overall`: on any factor).
"""

from __future__ import annotations

from datetime import date

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from transforms.need import FACTORS, OVERALL

CLASSES = {
    "high_need_no_support": "Högt behov – inget stöd",
    "high_need_support": "Högt behov – stöd",
    "uncertain": "Osäkert om behovet är bland de högsta",
    "lower_need_much_support": "Lägre behov – mycket stöd",
    "lower_need_some_support": "Lägre behov – visst stöd",
    "lower_need_no_support": "Lägre behov – inget stöd",
    "no_need_data": "Behovet kan inte beräknas",
}


class SupportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    high_need: float = Field(default=0.8, gt=0, le=1)
    uncertain_from: float = Field(default=0.2, ge=0, le=1)
    min_actors: int = Field(default=2, ge=1)
    min_supports: int = Field(default=3, ge=1)
    min_sek_per_child: float = Field(default=200.0, ge=0)
    first_year: int | None = None
    last_year: int | None = None
    year: int | None = None                                   # the year shown (default: the build's)
    year_by_county: dict[str, int] = Field(default_factory=dict)  # län code → the year shown

    @model_validator(mode="after")
    def _ordered(self) -> SupportSettings:
        if self.uncertain_from > self.high_need:
            raise ValueError("uncertain_from must not exceed high_need")
        return self


SUPPORT_SCHEMA = {
    "area_code": pl.String, "lan_code": pl.String, "factor": pl.String, "factor_label": pl.String,
    "period": pl.Int32, "period_start": pl.Date, "period_end": pl.Date,
    "score": pl.Float64, "p_top_fifth": pl.Float64, "rank_lower": pl.Int32, "rank_upper": pl.Int32,
    "n_actors": pl.Int32, "n_supports": pl.Int32, "support_types": pl.String, "actors": pl.String,
    "sek": pl.Float64, "n_missing_amount": pl.Int32, "children": pl.Float64,
    "sek_per_child": pl.Float64, "class": pl.String, "class_label": pl.String,
    "high_need_from": pl.Float64, "overlap": pl.Boolean, "overlap_actors": pl.String,
    "shown": pl.Boolean,
}
MONEY = "ekonomiskt_stod"


def shown_year(settings: SupportSettings, lan: str, build_year: int | None) -> int | None:
    """The year a county's pages show: its own setting, the general one, or the build's;
    never after the build's year."""
    wanted = settings.year_by_county.get(lan, settings.year) or build_year
    if wanted is None or build_year is None:
        return wanted
    return min(wanted, build_year)


def periods(support: pl.DataFrame, settings: SupportSettings, build_year: int | None = None) -> list[int]:
    """The follow-up years: the register's span (or the settings'), never after the build's
    year, and always the years shown."""
    if settings.first_year and settings.last_year:
        years = set(range(settings.first_year, settings.last_year + 1))
    elif support.height == 0:
        years = set()
    else:
        first = settings.first_year or support["start"].min().year
        last = settings.last_year or support["end"].max().year
        years = set(range(first, last + 1))
    if build_year is not None:
        years = {y for y in years if y <= build_year}
        years |= {shown_year(settings, lan, build_year) for lan in [*settings.year_by_county, ""]}
    return sorted(years)


def _active(support: pl.DataFrame, years: list[int]) -> pl.DataFrame:
    """Support rows × the years they are active in, with the year's share of the amount."""
    span = pl.DataFrame({"period": years}, schema={"period": pl.Int32}).with_columns(
        period_start=pl.date(pl.col("period"), 1, 1), period_end=pl.date(pl.col("period"), 12, 31))
    days = (pl.col("end") - pl.col("start")).dt.total_days() + 1
    overlap = ((pl.min_horizontal("end", "period_end") - pl.max_horizontal("start", "period_start"))
               .dt.total_days() + 1)
    return (support.join(span, how="cross")
            .filter((pl.col("start") <= pl.col("period_end")) & (pl.col("end") >= pl.col("period_start")))
            .with_columns(sek_share=pl.col("amount_sek") * overlap / days))


def _summary(rows: pl.DataFrame, types: dict[str, str]) -> pl.DataFrame:
    order = list(types)
    return rows.group_by("area_code", "factor", "period").agg(
        n_actors=pl.col("actor").n_unique().cast(pl.Int32),
        n_supports=pl.len().cast(pl.Int32),
        type_codes=pl.col("support_type").unique(),
        actors=pl.col("actor").unique().sort().str.join(", "),
        sek=pl.when(pl.col("sek_share").is_not_null().any()).then(pl.col("sek_share").sum()),
        n_missing_amount=((pl.col("support_type") == MONEY) & pl.col("amount_sek").is_null()).sum()
        .cast(pl.Int32),
    ).with_columns(support_types=pl.col("type_codes").list.eval(
        pl.element().sort_by(pl.element().replace_strict(order, list(range(len(order)))))
        .replace_strict(types)).list.join(", ")).drop("type_codes")


def support_need(support: pl.DataFrame, need: pl.DataFrame, children: pl.DataFrame,
                 settings: SupportSettings, support_types: dict[str, str],
                 build_year: int | None = None) -> pl.DataFrame:
    """marts.support_need: kommun × factor (and overall) × year.

    `support`: actor, area_code, factor (nullable), support_type, start, end, amount_sek;
    `need`: the kommun rows of marts.need_index; `children`: area_code, year, children;
    `support_types`: code → Swedish label (the register layout's); `build_year`: the year
    of the build (no later year is followed; the default year shown).
    """
    years = periods(support, settings, build_year)
    kommun_need = need.filter(pl.col("area_type") == "kommun")
    grid = (kommun_need.select("area_code", "lan_code", "factor", "score", "p_top_fifth",
                               "rank_lower", "rank_upper", "status")
            .join(pl.DataFrame({"period": years}, schema={"period": pl.Int32}), how="cross"))
    active = _active(support, years)
    by_factor = _summary(active.filter(pl.col("factor").is_not_null()), support_types)
    overall = _summary(active.with_columns(factor=pl.lit(OVERALL)), support_types)
    overlapping = (by_factor.filter(pl.col("n_actors") >= 2)
                   .group_by("area_code", "period")
                   .agg(any_overlap=pl.lit(True),
                        overlap_all=pl.col("actors").str.split(", ").list.explode(keep_nulls=False, empty_as_null=False)
                        .unique().sort().str.join(", ")))
    frame = (grid.join(pl.concat([by_factor, overall]), on=["area_code", "factor", "period"], how="left")
             .join(overlapping, on=["area_code", "period"], how="left")
             .with_columns(n_actors=pl.col("n_actors").fill_null(0),
                           n_supports=pl.col("n_supports").fill_null(0),
                           n_missing_amount=pl.col("n_missing_amount").fill_null(0)))
    frame = _per_child(frame, children)
    p = pl.col("p_top_fifth")
    much = ((pl.col("n_actors") >= settings.min_actors) | (pl.col("n_supports") >= settings.min_supports)
            | (pl.col("sek_per_child") >= settings.min_sek_per_child).fill_null(False))
    klass = (pl.when(pl.col("status") != "ok").then(pl.lit("no_need_data"))
             .when(p >= settings.high_need)
             .then(pl.when(pl.col("n_supports") > 0).then(pl.lit("high_need_support"))
                   .otherwise(pl.lit("high_need_no_support")))
             .when(p >= settings.uncertain_from).then(pl.lit("uncertain"))
             .when(pl.col("n_supports") == 0).then(pl.lit("lower_need_no_support"))
             .when(much).then(pl.lit("lower_need_much_support"))
             .otherwise(pl.lit("lower_need_some_support")))
    is_overall = pl.col("factor") == OVERALL
    frame = frame.with_columns(
        factor_label=pl.col("factor").replace_strict(FACTORS),
        period_start=pl.date(pl.col("period"), 1, 1), period_end=pl.date(pl.col("period"), 12, 31),
        **{"class": klass},
        overlap=pl.when(is_overall).then(pl.col("any_overlap").fill_null(False))
        .otherwise(pl.col("n_actors") >= 2),
        overlap_actors=pl.when(is_overall).then("overlap_all")
        .when(pl.col("n_actors") >= 2).then("actors"),
        high_need_from=pl.lit(settings.high_need, dtype=pl.Float64),
        shown=pl.col("period") == pl.col("lan_code").map_elements(
            lambda lan: shown_year(settings, lan, build_year) or -1, return_dtype=pl.Int32),
    ).with_columns(class_label=pl.col("class").replace_strict(CLASSES))
    return frame.select(list(SUPPORT_SCHEMA)).cast(SUPPORT_SCHEMA).sort("area_code", "factor", "period")


def _per_child(frame: pl.DataFrame, children: pl.DataFrame) -> pl.DataFrame:
    """Children 0–19 in the period's year, or the nearest year with a population."""
    pop = children.select("area_code", year=pl.col("year").cast(pl.Int32), children="children")
    keys = frame.select("area_code", "period").unique()
    nearest = (keys.join(pop, on="area_code", how="inner")
               .with_columns(distance=(pl.col("year") - pl.col("period")).abs())
               .sort("area_code", "period", "distance", "year")
               .group_by("area_code", "period", maintain_order=True).first()
               .select("area_code", "period", "children"))
    return frame.join(nearest, on=["area_code", "period"], how="left").with_columns(
        sek_per_child=pl.when(pl.col("children") > 0).then(pl.col("sek") / pl.col("children")))


def active_supports(support: pl.DataFrame, on: date) -> pl.DataFrame:
    """Support rows active on a date (for the selection of applicants)."""
    return support.filter((pl.col("start") <= on) & (pl.col("end") >= on))
