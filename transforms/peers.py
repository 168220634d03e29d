"""Similar municipalities ("liknande kommuner") and comparison with the peer group.

Each kommun's peers are the kommuner nearest to it on standardised structural variables,
as Kolada's "liknande kommuner" does: variables are z-scored across all kommuner (after a
log where the variable is skewed), and the distance is the weighted Euclidean distance

    d(a, b) = sqrt( Σⱼ wⱼ (zₐⱼ − z_bⱼ)² / Σⱼ wⱼ )

over the variables both kommuner have (weights from data/catalog/peers.yaml, read by
sources/catalog.py). The peer group's value is Σnumerator/Σdenominator over the peers,
never a mean of their rates.

The variables do not depend on the indicator catalogue: indicator variables are read from
Kolada's values of the KPIs peers.yaml names (fetched whatever the catalogue holds), and the
population bands they need are always built.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field


class PeerVariable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    label: str
    source: Literal["population", "share_0_19", "density", "indicator"]
    indicators: list[str] = []
    log: bool = False
    weight: float = Field(default=1.0, ge=0)


class PeerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    neighbours: int = Field(default=7, ge=1, le=50)
    variables: list[PeerVariable]

    @property
    def kpis(self) -> list[str]:
        """The Kolada KPIs behind indicator variables."""
        return sorted({k for v in self.variables if v.source == "indicator" for k in v.indicators})


# Population bands the structural variables read, whatever the catalogue needs.
PEER_BANDS = [(0, 19), (None, None)]


def structure(settings: PeerSettings, kommuner: pl.DataFrame, population: pl.DataFrame,
              kolada_values: pl.DataFrame) -> pl.DataFrame:
    """Structural variables per kommun, each from its latest year with data.

    `kolada_values` is raw.kolada_value (kpi, municipality, period, gender, status, value,
    isdeleted). Long format: kommun_code, variable, value, year.
    """
    total = population.filter((pl.col("sex") == "T") & (pl.col("band") == "all"))
    young = population.filter((pl.col("sex") == "T") & (pl.col("band") == "0-19"))
    parts = []
    for var in settings.variables:
        if var.source == "population":
            frame = total.select(kommun_code="area_code", year="year", value="population")
        elif var.source == "share_0_19":
            frame = young.join(total, on=["area_code", "year"], suffix="_all").select(
                kommun_code="area_code", year="year",
                value=pl.col("population") / pl.col("population_all") * 100)
        elif var.source == "density":
            frame = total.join(kommuner.select(area_code="kommun_code", area_km2="area_km2"),
                               on="area_code").select(kommun_code="area_code", year="year",
                                                      value=pl.col("population") / pl.col("area_km2"))
        else:
            # The first listed indicator with a value wins (a successor series before its
            # discontinued predecessor).
            preference = {ind: i for i, ind in enumerate(var.indicators)}
            frame = (kolada_values.filter(pl.col("kpi").is_in(var.indicators)
                                          & pl.col("municipality").is_in(kommuner["kommun_code"].implode())
                                          & (pl.col("gender") == "T") & (pl.col("status") == "")
                                          & ~pl.col("isdeleted"))
                     .with_columns(pref=pl.col("kpi").replace_strict(preference))
                     .sort("municipality", "period", "pref", descending=[False, True, False])
                     .unique(["municipality", "period"], keep="first", maintain_order=True)
                     .select(kommun_code="municipality", year="period", value="value"))
        latest = (frame.drop_nulls("value").sort("kommun_code", "year", descending=[False, True])
                  .unique("kommun_code", keep="first", maintain_order=True))
        parts.append(latest.with_columns(variable=pl.lit(var.id)))
    return (pl.concat(parts).select("kommun_code", "variable", pl.col("value").cast(pl.Float64),
                                    pl.col("year").cast(pl.Int32))
            .sort("kommun_code", "variable"))


def peer_groups(settings: PeerSettings, structural: pl.DataFrame) -> pl.DataFrame:
    """The `neighbours` nearest kommuner of each kommun: kommun_code, peer_code, rank, distance."""
    wide = structural.pivot(on="variable", index="kommun_code", values="value").sort("kommun_code")
    codes = wide["kommun_code"].to_list()
    columns, weights = [], []
    for var in settings.variables:
        if var.id not in wide.columns or var.weight == 0:
            continue
        x = wide[var.id].cast(pl.Float64).to_numpy()
        if var.log:
            x = np.log(np.where(x > 0, x, np.nan))
        sd = np.nanstd(x)
        columns.append((x - np.nanmean(x)) / sd if sd > 0 else np.zeros_like(x))
        weights.append(var.weight)
    z = np.column_stack(columns)
    w = np.array(weights)
    have = np.isfinite(z)
    diff2 = (z[:, None, :] - z[None, :, :]) ** 2
    both = have[:, None, :] & have[None, :, :]
    num = np.where(both, diff2 * w, 0.0).sum(axis=2)
    den = np.where(both, w, 0.0).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        distance = np.sqrt(num / den)
    np.fill_diagonal(distance, np.inf)
    distance = np.where(np.isfinite(distance), distance, np.inf)
    rows = []
    for i, code in enumerate(codes):
        order = np.lexsort((np.arange(len(codes)), distance[i]))[: settings.neighbours]
        rows.extend({"kommun_code": code, "peer_code": codes[j], "rank": r + 1,
                     "distance": float(distance[i, j])} for r, j in enumerate(order))
    return pl.DataFrame(rows, schema={"kommun_code": pl.String, "peer_code": pl.String,
                                      "rank": pl.Int32, "distance": pl.Float64})


def peer_values(facts: pl.DataFrame, groups: pl.DataFrame) -> pl.DataFrame:
    """Σnum/Σden of each kommun's peers, per indicator, year, sex and breakdown."""
    keys = ["indicator_id", "period", "sex", "breakdown"]
    usable = facts.filter((pl.col("area_type") == "kommun") & (pl.col("status") == "ok")
                          & pl.col("numerator").is_not_null() & (pl.col("denominator") > 0))
    return (groups.join(usable.select(*keys, "multiplier", peer_code="area_code", num="numerator",
                                      den="denominator"), on="peer_code", how="inner",
                        maintain_order="left")  # Σ in rank order: the same bits every run
            .group_by("kommun_code", *keys)
            .agg(peer_value=pl.col("num").sum() / pl.col("den").sum() * pl.col("multiplier").first(),
                 peers_used=pl.len())
            .rename({"kommun_code": "area_code"}))
