"""Population bands, harmonisation and Σnum/Σden aggregation on small hand-made frames."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sources.catalog import indicators_frame
from transforms.aggregate import aggregate_areas
from transforms.harmonise import kommun_values
from transforms.population import population_bands

KOMMUNER = ["0001", "0002", "0003"]  # codes used only inside these tests


def raw_population() -> pl.DataFrame:
    rows = []
    for code, scale in zip(KOMMUNER, (100, 200, 300), strict=True):
        for age in range(0, 3):
            for sex, share in (("1", 0.5), ("2", 0.5)):
                rows.append({"region": code, "age_code": str(age), "sex_code": sex,
                             "population": scale * share})
        for sex in ("1", "2"):
            rows.append({"region": code, "age_code": "tot", "sex_code": sex, "population": scale * 5.0})
    return pl.DataFrame(rows).with_columns(table_id=pl.lit("TAB638"), year=pl.lit(2024, pl.Int32),
                                           perturbed=pl.lit(False))


def test_population_bands_sum_ages_and_use_published_total():
    bands = population_bands(raw_population(), [(0, 1), (None, None)], {"tot"})
    one = bands.filter(pl.col("area_code") == "0002")
    get = {(r["sex"], r["band"]): r["population"] for r in one.to_dicts()}
    assert get[("K", "0-1")] == 200.0 and get[("T", "0-1")] == 400.0
    assert get[("T", "all")] == 2000.0  # the published total, not the sum of ages 0–2


def test_population_band_with_a_missing_age_is_missing():
    raw = raw_population().filter(~((pl.col("region") == "0001") & (pl.col("age_code") == "1")
                                    & (pl.col("sex_code") == "1")))
    bands = population_bands(raw, [(0, 1)], {"tot"})
    row = bands.filter(pl.col("area_code") == "0001", pl.col("sex") == "M")
    assert row["population"].item() is None
    assert bands.filter(pl.col("area_code") == "0001", pl.col("sex") == "T")["population"].item() is None


def catalog(**overrides) -> pl.DataFrame:
    from sources.catalog import Indicator

    base = dict(id="N00001", title="Test", short_title="Test", definition="Testindikator",
                source="kolada", source_id="N00001", verification="VERIFIED-API", domain="skola",
                factor="protective", strategic_factor="skola", polarity="high_is_good",
                value_type="proportion", unit="%", multiplier=100,
                population={"from": 0, "to": 1}, age_label="0–1 år", sex_split="T",
                ci_method="wilson")
    return indicators_frame([Indicator.model_validate({**base, **overrides})])


def kolada(values: list[tuple[str, float | None, str]], kpi="N00001") -> pl.DataFrame:
    return pl.DataFrame(
        [{"kpi": kpi, "municipality": m, "period": 2024, "gender": "T", "count": 1, "status": s,
          "value": v, "isdeleted": False, "response_sha256": "x", "fetched_at": "t"}
         for m, v, s in values],
        schema={"kpi": pl.String, "municipality": pl.String, "period": pl.Int32, "gender": pl.String,
                "count": pl.Int32, "status": pl.String, "value": pl.Float64, "isdeleted": pl.Boolean,
                "response_sha256": pl.String, "fetched_at": pl.String})


KPIS = pl.DataFrame({"kpi_id": ["N00001"], "title": ["Test (ny titel)"]})


def harmonise(cat, values):
    bands = population_bands(raw_population(), [(0, 1), (None, None)], {"tot"})
    return kommun_values(values, cat, KPIS, bands, KOMMUNER), bands


def test_suppressed_and_missing_are_never_zero():
    rows, _ = harmonise(catalog(), kolada([("0001", 50.0, ""), ("0002", None, "Privacy"),
                                           ("0003", None, "Missing")]))
    by = {r["area_code"]: r for r in rows.to_dicts()}
    assert by["0001"]["status"] == "ok" and by["0001"]["numerator"] == 100.0  # 50 % of 200
    assert by["0002"]["status"] == "suppressed" and by["0002"]["value"] is None
    assert "Privacy" in by["0002"]["status_reason"]
    assert by["0003"]["status"] == "missing" and by["0003"]["numerator"] is None
    assert by["0001"]["ci_approximate"] is True
    assert by["0001"]["source_title"] == "Test (ny titel)"


def test_count_source_becomes_rate_with_true_numerator_and_small_counts_hidden():
    cat = catalog(value_type="rate", source_measure="count", multiplier=1000, ci_method="byar_exact")
    rows, _ = harmonise(cat, kolada([("0001", 3.0, ""), ("0002", 20.0, "")]))
    by = {r["area_code"]: r for r in rows.to_dicts()}
    assert by["0001"]["status"] == "suppressed" and "antal 1–4" in by["0001"]["status_reason"]
    assert by["0002"]["value"] == pytest.approx(20 / 400 * 1000)
    assert by["0002"]["ci_approximate"] is False


def test_small_denominator_is_hidden():
    cat = catalog(disclosure={"suppress_counts": [1, 4], "min_denominator": 300})
    rows, _ = harmonise(cat, kolada([("0001", 50.0, ""), ("0002", 50.0, "")]))
    assert rows.filter(pl.col("area_code") == "0001")["status"].item() == "suppressed"
    assert rows.filter(pl.col("area_code") == "0002")["status"].item() == "ok"


def membership() -> pl.DataFrame:
    return pl.DataFrame({"kommun_code": KOMMUNER, "area_code": ["99"] * 3,
                         "area_type": ["lan"] * 3})


def test_aggregate_is_sum_of_numerators_over_sum_of_denominators():
    cat = catalog()
    rows, bands = harmonise(cat, kolada([("0001", 10.0, ""), ("0002", 40.0, ""), ("0003", 70.0, "")]))
    agg = aggregate_areas(rows, membership(), cat, bands)
    # populations 0–1 år: 200, 400, 600. Σnum/Σden = (20 + 160 + 420) / 1200 = 50 %,
    # not the mean of the rates (40 %).
    assert agg["value"].item() == pytest.approx(50.0)
    assert agg["numerator"].item() == pytest.approx(600.0) and agg["denominator"].item() == 1200.0
    assert agg["coverage"].item() == 1.0 and agg["status_reason"].item() is None


def test_aggregate_reports_coverage_when_members_are_hidden():
    cat = catalog()
    rows, bands = harmonise(cat, kolada([("0001", 10.0, ""), ("0002", None, "Privacy"),
                                         ("0003", 70.0, "")]))
    agg = aggregate_areas(rows, membership(), cat, bands).to_dicts()[0]
    assert agg["value"] == pytest.approx((20 + 420) / 800 * 100)
    assert agg["coverage"] == pytest.approx(800 / 1200)
    assert "2 av 3 kommuner" in agg["status_reason"]


def test_aggregate_on_too_little_of_the_population_is_missing():
    cat = catalog()
    rows, bands = harmonise(cat, kolada([("0001", 10.0, ""), ("0002", None, "Privacy")]))
    agg = aggregate_areas(rows, membership(), cat, bands).to_dicts()[0]  # 0003 has no row at all
    assert agg["status"] == "missing" and agg["value"] is None
    assert agg["coverage"] == pytest.approx(200 / 1200)
    assert "för låg täckning" in agg["status_reason"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 500), st.integers(1, 500)), min_size=1, max_size=12))
def test_aggregate_equals_sum_of_numerators_over_sum_of_denominators(cells):
    codes = [f"{i + 1:04d}" for i in range(len(cells))]
    kommun = pl.DataFrame({
        "indicator_id": "N00001", "area_code": codes, "period": 2024, "sex": "T",
        "value": [100 * min(x, n) / n for x, n in cells],
        "numerator": [float(min(x, n)) for x, n in cells],
        "denominator": [float(n) for _, n in cells], "ci_approximate": False,
        "perturbed": False, "status": "ok", "status_reason": None, "value_note": None,
        "source_title": "t", "fetched_at": "f",
    }, schema_overrides={"period": pl.Int32, "status_reason": pl.String, "value_note": pl.String})
    members = pl.DataFrame({"kommun_code": codes, "area_code": "99", "area_type": "lan"})
    bands = pl.DataFrame({"area_code": codes, "year": 2024, "sex": "T", "band": "0-1",
                          "population": [float(n) for _, n in cells], "perturbed": False},
                         schema_overrides={"year": pl.Int32})
    row = aggregate_areas(kommun, members, catalog(), bands).to_dicts()[0]
    total_x = sum(min(x, n) for x, n in cells)
    total_n = sum(n for _, n in cells)
    assert row["value"] == pytest.approx(100 * total_x / total_n)
    assert row["coverage"] == pytest.approx(1.0)
