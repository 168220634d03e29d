"""SCB publishes a year's population after Kolada publishes the year's values (issue 9 #4):
the newest year borrows the latest published population, says so, and is never dropped."""

from __future__ import annotations

import polars as pl
import pytest

from transforms.aggregate import aggregate_areas
from transforms.harmonise import kommun_values
from transforms.population import carry_forward, population_bands
from tests.test_transforms import KOMMUNER, KPIS, catalog, membership, raw_population


def kolada_two_years(values_2024, values_2025, kpi="N00001"):
    rows = []
    for year, values in ((2024, values_2024), (2025, values_2025)):
        rows += [{"kpi": kpi, "municipality": m, "period": year, "gender": "T", "count": 1,
                  "status": "", "value": v, "isdeleted": False, "response_sha256": "x",
                  "fetched_at": "t"} for m, v in zip(KOMMUNER, values, strict=True)]
    return pl.DataFrame(rows, schema_overrides={"period": pl.Int32, "count": pl.Int32,
                                                "value": pl.Float64})


def bands_2024_only():
    return population_bands(raw_population(), [(0, 1), (None, None)], {"tot"})  # 2024 only


def test_carry_forward_lends_the_latest_year_and_says_which():
    bands = bands_2024_only()
    carried = carry_forward(bands, [2023, 2024, 2025, 2026])
    row = carried.filter(pl.col("area_code") == "0002", pl.col("sex") == "T", pl.col("band") == "0-1")
    assert row.sort("year").select("year", "population", "population_year").rows() == [
        (2024, 400.0, 2024), (2025, 400.0, 2024), (2026, 400.0, 2024)]  # 2023 is not invented


def test_newest_year_uses_last_published_population_and_is_marked():
    cat = catalog()
    rows = kommun_values(kolada_two_years([10.0, 40.0, 70.0], [20.0, 50.0, 80.0]), cat, KPIS,
                         bands_2024_only(), KOMMUNER)
    new = rows.filter(pl.col("period") == 2025).sort("area_code")
    # 0001: 20 % of the 2024 population 0–1 år (200) = 40 children; never dropped.
    assert new["numerator"].to_list() == pytest.approx([40.0, 200.0, 480.0])
    assert new["denominator"].to_list() == [200.0, 400.0, 600.0]
    assert new["value"].to_list() == [20.0, 50.0, 80.0] and new["ci_approximate"].all()
    assert new["value_note"].to_list() == [
        "SCB har ännu inte publicerat befolkningen 2025; intervallet är ungefärligt och bygger "
        "på befolkningen 2024."] * 3
    assert rows.filter(pl.col("period") == 2024)["value_note"].null_count() == 3


def test_newest_year_gets_lan_and_riket_as_sum_of_numerators_over_denominators():
    cat = catalog()
    bands = bands_2024_only()
    rows = kommun_values(kolada_two_years([10.0, 40.0, 70.0], [20.0, 50.0, 80.0]), cat, KPIS,
                         bands, KOMMUNER)
    agg = aggregate_areas(rows, membership(), cat, bands).filter(pl.col("period") == 2025).to_dicts()[0]
    # (40 + 200 + 480) / (200 + 400 + 600) = 60 %
    assert agg["value"] == pytest.approx(60.0) and agg["coverage"] == pytest.approx(1.0)
    assert agg["ci_approximate"] and "befolkningen 2024" in agg["value_note"]


def test_count_source_says_the_value_itself_rests_on_the_older_population():
    cat = catalog(value_type="rate", source_measure="count", multiplier=1000, ci_method="byar_exact")
    rows = kommun_values(kolada_two_years([20.0, 20.0, 20.0], [30.0, 30.0, 30.0]), cat, KPIS,
                         bands_2024_only(), KOMMUNER)
    new = rows.filter(pl.col("period") == 2025, pl.col("area_code") == "0002").to_dicts()[0]
    assert new["value"] == pytest.approx(30 / 400 * 1000)
    assert "värdet och intervallet bygger på befolkningen 2024" in new["value_note"]
