"""The health-economics marts for the site tests, made by the real transforms from the real
catalogues over tests/site_fixtures.small_marts: costs for Östergötland's kommuner (the
costliest kommun is not first in the alphabet), scenarios from the fixture's indicator
values, and a retired cost KPI in meta.data_quality."""

from __future__ import annotations

import dataclasses

import polars as pl

from reports.model import Marts
from sources.health_economics_catalog import (assumptions_frame, kpi_frame,
                                              load_health_economics)
from sources.kolada import values_frame
from tests.conftest import CATALOG
from transforms.health_economics import baselines, late_cost, prevention_scenarios

YEARS = [2021, 2022, 2023, 2024]


def with_health(base: Marts, kommuner: pl.DataFrame) -> Marts:
    costs, scenarios = load_health_economics(CATALOG)
    chosen = kommuner.filter(pl.col("lan_code") == "05").sort("kommun_code")
    codes = chosen["kommun_code"].to_list()
    rows, people = [], []
    for i, code in enumerate(codes):
        for year in YEARS:
            # The costliest kommun is not first in the alphabet, so an ordering by cost would show.
            level = 9000 + 400 * ((i * 7) % len(codes)) + 100 * (year - 2021)
            for kpi, factor in (("N33006", 1.0), ("N33022", 0.7), ("N33004", 0.4), ("N33021", 0.3),
                                ("N30005", 0.5), ("N30007", 0.45), ("U31803", 0.0005)):
                rows.append((kpi, code, year, "T", 1, "", round(level * factor, 1), False, None, None))
            people += [(code, year, "T", band, pop) for band, pop in
                       (("0-20", 2000.0 + 50 * i), ("all", 9000.0 + 200 * i), ("0-17", 1700.0 + 40 * i))]
    population = pl.DataFrame(people, schema=["area_code", "year", "sex", "band", "population"],
                              orient="row").with_columns(pl.col("year").cast(pl.Int32))
    late = late_cost(values_frame(rows), population, chosen.select("kommun_code", "lan_code"),
                     costs.settings)
    params = scenarios.parameters()
    base_values = baselines(base.facts, base.indicators, [p.outcome_indicator for p in params])
    cohorts = pl.DataFrame([(c, 2024, "T", "16-16", 150.0) for c in codes]
                           + [(c, 2024, "T", "20-20", 160.0) for c in codes],
                           schema=["area_code", "year", "sex", "band", "population"],
                           orient="row").with_columns(pl.col("year").cast(pl.Int32))
    scenario = prevention_scenarios(params, scenarios.settings, base_values, cohorts,
                                    chosen.select("kommun_code", "lan_code"))
    quality = pl.DataFrame([{
        "indicator_id": "N33002", "source_id": "kolada:N33002", "problem": "unknown_id",
        "message": "Kolada känner inte till nyckeltalet N33002 (det kan ha tagits bort eller bytt id).",
        "first_seen": "2026-12-07", "last_seen": "2026-12-07", "state": "unavailable",
        "values_from": None, "used_for": "health_economics"}])
    return dataclasses.replace(base, late_cost=late, late_cost_kpi=kpi_frame(costs),
                               prevention_scenario=scenario,
                               prevention_assumption=assumptions_frame(scenarios),
                               data_quality=quality if base.data_quality is None else
                               pl.concat([base.data_quality, quality], how="diagonal_relaxed"))
