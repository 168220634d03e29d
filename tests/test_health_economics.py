"""Hälsoekonomi: price-year indexing, Σ/Σ aggregates and rolling means, the reference-cost
comparison, the prevention scenario worked by hand, the Monte Carlo around it, and the cost
catalogue against Kolada's KPI list and wire format."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import httpx
import numpy as np
import polars as pl
import pytest

from sources.catalog import CatalogError
from sources.health_economics_catalog import (LATE_COST_FILE, SCENARIO_FILE, load_late_cost,
                                              load_scenarios)
from sources.http import Fetcher
from sources.kolada import KoladaClient, values_frame
from transforms.health_economics import (CostKpi, CostSettings, ScenarioParameters,
                                         ScenarioSettings, Triangular, discount_factor,
                                         late_cost, memo_columns, prevention_scenarios)
from tests.conftest import CATALOG, FIXTURES, realdata

KPI_1980 = {2015: 313.35, 2016: 316.43, 2017: 322.11, 2023: 403.70}  # SCB, årsmedel


def settings(**changes) -> CostSettings:
    base = dict(kpis=(CostKpi("N33006", "barn_unga_total", "Barn och unga", "cost", "0-20"),
                      CostKpi("N30005", "ifo_netto", "IFO netto", "cost", "all"),
                      CostKpi("N30007", "ifo_referens", "IFO referens", "reference", "all", "ifo_netto"),
                      CostKpi("U31804", "unga_vuxna_bistand", "Unga vuxna", "volume", "18-24")),
                index=KPI_1980, price_year=2023, rolling_years=3, min_coverage=0.3,
                reference_band_pct=5.0)
    return CostSettings(**{**base, **changes})


def kolada(rows: list[tuple]) -> pl.DataFrame:
    """raw.kolada_value rows from (kpi, kommun, year, value[, status])."""
    return values_frame([(r[0], r[1], r[2], "T", 1, r[4] if len(r) > 4 else "", r[3], False, None, None)
                         for r in rows])


def people(rows: list[tuple]) -> pl.DataFrame:
    """Population bands from (kommun, year, band, population), sex T."""
    return pl.DataFrame([{"area_code": a, "year": y, "sex": "T", "band": b, "population": float(p)}
                         for a, y, b, p in rows],
                        schema={"area_code": pl.String, "year": pl.Int32, "sex": pl.String,
                                "band": pl.String, "population": pl.Float64})


KOMMUNER = pl.DataFrame({"kommun_code": ["0101", "0102", "0201"], "lan_code": ["01", "01", "02"]})


def row(frame: pl.DataFrame, area: str, kind: str, year: int) -> dict:
    return frame.filter((pl.col("area_code") == area) & (pl.col("cost_kind") == kind)
                        & (pl.col("year") == year)).row(0, named=True)


# -- (a) costs -----------------------------------------------------------------------------


def test_price_year_indexing_restates_with_the_stated_index():
    frame = late_cost(kolada([("N33006", "0101", 2015, 10_000.0), ("N33006", "0101", 2024, 12_000.0)]),
                      people([("0101", 2015, "0-20", 1000), ("0101", 2024, "0-20", 1000)]),
                      KOMMUNER, settings())
    r = row(frame, "0101", "barn_unga_total", 2015)
    # 10 000 kr in 2015 prices is 10 000 × 403,70 / 313,35 = 12 883,36 kr in 2023 prices.
    assert r["value"] == pytest.approx(10_000 * 403.70 / 313.35, rel=1e-12)
    assert r["value"] == pytest.approx(12_883.3573, abs=1e-3)
    assert r["sek_total"] == pytest.approx(12_883_357.3, abs=0.1)
    assert (r["value_nominal"], r["price_year"], r["status"]) == (10_000.0, 2023, "ok")
    # 2024 is not in the index: the current-price value stays, nothing is restated.
    late = row(frame, "0101", "barn_unga_total", 2024)
    assert (late["value"], late["sek_total"], late["value_nominal"]) == (None, None, 12_000.0)
    assert late["status"] == "no_price_index" and "2024" in late["status_reason"]


def test_lan_and_riket_are_sums_over_sums_never_means_of_kommun_values():
    values = kolada([("N33006", "0101", 2023, 1000.0), ("N33006", "0102", 2023, 3000.0),
                     ("N33006", "0201", 2023, None, "Missing")])
    pop = people([("0101", 2023, "0-20", 100), ("0102", 2023, "0-20", 300), ("0201", 2023, "0-20", 400)])
    frame = late_cost(values, pop, KOMMUNER, settings())
    lan = row(frame, "01", "barn_unga_total", 2023)
    # (1000 × 100 + 3000 × 300) / (100 + 300) = 2500, not (1000 + 3000) / 2 = 2000.
    assert lan["value"] == pytest.approx(2500.0) and lan["coverage"] == pytest.approx(1.0)
    riket = row(frame, "00", "barn_unga_total", 2023)
    assert riket["value"] == pytest.approx(2500.0)
    assert riket["coverage"] == pytest.approx(400 / 800)   # 0201 (400 children) has no value
    missing = row(frame, "0201", "barn_unga_total", 2023)
    assert missing["value"] is None and missing["status"] == "missing"   # never 0
    assert row(frame, "0101", "barn_unga_total", 2023)["lan_value"] == pytest.approx(2500.0)
    assert row(frame, "0101", "barn_unga_total", 2023)["riket_value"] == pytest.approx(2500.0)
    assert row(frame, "02", "barn_unga_total", 2023)["status"] == "missing"  # coverage 0


def test_rolling_mean_is_three_years_of_cost_over_three_years_of_children():
    index = {2015: 100.0, 2016: 100.0, 2017: 100.0, 2018: 100.0, 2019: 100.0}
    values = kolada([("N33006", "0101", 2015, 1000.0), ("N33006", "0101", 2016, 2000.0),
                     ("N33006", "0101", 2017, 6000.0), ("N33006", "0101", 2019, 1000.0)])
    pop = people([("0101", y, "0-20", p) for y, p in ((2015, 100), (2016, 300), (2017, 100), (2019, 100))])
    frame = late_cost(values, pop, KOMMUNER, settings(index=index, price_year=2019))
    r = row(frame, "0101", "barn_unga_total", 2017)
    # (1000·100 + 2000·300 + 6000·100) / (100 + 300 + 100) = 1 300 000 / 500 = 2600,
    # where the mean of the three values would say 3000.
    assert r["rolling_value"] == pytest.approx(2600.0) and r["rolling_years"] == 3
    assert row(frame, "0101", "barn_unga_total", 2016)["rolling_value"] is None  # 2014 missing
    assert row(frame, "0101", "barn_unga_total", 2019)["rolling_value"] is None  # 2018 missing


@pytest.mark.parametrize("net, expected, deviation", [
    (5500.0, "higher", 10.0), (5100.0, "near", 2.0), (4800.0, "near", -4.0),
    (4500.0, "lower", -10.0), (None, "not_compared", None)])
def test_the_cost_is_read_against_its_reference_cost(net, expected, deviation):
    rows = [("N30007", "0101", 2023, 5000.0)]
    rows += [("N30005", "0101", 2023, net) if net is not None else ("N30005", "0101", 2023, None, "Missing")]
    frame = late_cost(kolada(rows), people([("0101", 2023, "all", 10_000)]), KOMMUNER, settings())
    r = row(frame, "0101", "ifo_netto", 2023)
    assert r["reference_comparison"] == expected
    assert r["reference_deviation_pct"] == (pytest.approx(deviation) if deviation is not None else None)
    assert r["reference_value"] == pytest.approx(5000.0) and r["reference_kpi"] == "N30007"
    assert frame.filter(pl.col("cost_kind") == "ifo_referens").is_empty()  # beside, not a row


def test_without_a_reference_nothing_is_compared():
    frame = late_cost(kolada([("N33006", "0101", 2023, 1000.0)]),
                      people([("0101", 2023, "0-20", 100)]), KOMMUNER, settings())
    assert set(frame["reference_comparison"]) == {"not_compared"}


def test_volumes_are_shares_aggregated_as_persons_over_residents():
    values = kolada([("U31804", "0101", 2023, 10.0), ("U31804", "0102", 2023, 2.0)])
    pop = people([("0101", 2023, "18-24", 1000), ("0102", 2023, "18-24", 3000)])
    frame = late_cost(values, pop, KOMMUNER, settings())
    lan = row(frame, "01", "unga_vuxna_bistand", 2023)
    # (100 + 60) persons of 4000 = 4,0 %; no price year, no kronor.
    assert lan["value"] == pytest.approx(4.0) and lan["persons"] == pytest.approx(160.0)
    assert (lan["price_year"], lan["sek_total"], lan["measure"]) == (None, None, "volume")


def test_memo_columns_give_the_latest_restated_year_and_the_reference_reading():
    values = kolada([("N33006", "0101", 2017, 1000.0), ("N33006", "0101", 2023, 2000.0),
                     ("N30005", "0101", 2023, 6000.0), ("N30007", "0101", 2023, 5000.0)])
    pop = people([("0101", 2017, "0-20", 10), ("0101", 2023, "0-20", 10), ("0101", 2023, "all", 50)])
    memo = memo_columns(late_cost(values, pop, KOMMUNER, settings()))
    r = memo.filter(pl.col("area_code") == "0101").row(0, named=True)
    assert (r["late_cost_year"], r["late_cost_sek_per_child"], r["price_year"]) == (2023, 2000.0, 2023)
    assert (r["reference_comparison"], r["reference_deviation_pct"]) == ("higher", pytest.approx(20.0))


# -- (b) scenarios -------------------------------------------------------------------------


def fixed(x: float) -> Triangular:
    return Triangular(x, x, x)


def scenario(**changes) -> ScenarioParameters:
    base = dict(id="test", title="Test", outcome_indicator="N17461", cohort_band="16-16",
                participation=fixed(1.0), effect=Triangular(0.02, 0.05, 0.10),
                shadow_price=Triangular(0.8e6, 1.0e6, 1.3e6), shadow_price_factor=1.0,
                form="npv_at_outcome", benefit_years=None, delay_years=2,
                discount_rate=Triangular(0.01, 0.03, 0.04), kommun_share=fixed(0.2),
                cost=fixed(10_000.0), cost_factor=1.0)
    return ScenarioParameters(**{**base, **changes})


BASELINE = pl.DataFrame({"indicator_id": ["N17461", "N17461", "N17461"],
                         "area_code": ["0101", "0102", "0201"], "period": [2024, 2024, 2024],
                         "value": [80.0, 90.0, None], "status": ["ok", "ok", "suppressed"],
                         "polarity": ["high_is_good"] * 3, "shortfall": [0.2, 0.1, None]})
COHORTS = people([("0101", 2024, "16-16", 1000), ("0102", 2024, "16-16", 500),
                  ("0201", 2024, "16-16", 700)])
SETTINGS = ScenarioSettings(draws=4000, seed=7, interval=0.9, price_year=2023)


def scenario_row(frame: pl.DataFrame, area: str) -> dict:
    return frame.filter(pl.col("area_code") == area).row(0, named=True)


def test_a_scenario_worked_by_hand():
    frame = prevention_scenarios([scenario()], SETTINGS, BASELINE, COHORTS, KOMMUNER)
    r = scenario_row(frame, "0101")
    # Cohort 1000, 80 % take the exam: 200 at risk, all take part; 5 % of them change:
    # 10 more exams. Each is worth 1 000 000 kr two years on: 1 000 000 / 1,03² = 942 595,9 kr
    # now. Saving 9 425 959 kr, the kommun's fifth 1 885 192 kr; cost 200 × 10 000 = 2 000 000 kr.
    assert r["at_risk"] == pytest.approx(200.0) and r["participants"] == pytest.approx(200.0)
    assert r["outcomes_central"] == pytest.approx(10.0)
    assert r["saving_central"] == pytest.approx(10 * 1_000_000 / 1.03 ** 2)
    assert r["saving_central"] == pytest.approx(9_425_959.1, abs=0.1)
    assert r["kommun_saving_central"] == pytest.approx(1_885_191.8, abs=0.1)
    assert r["cost_central"] == pytest.approx(2_000_000.0)
    assert r["net_central"] == pytest.approx(9_425_959.1 - 2_000_000, abs=0.1)
    # The Monte Carlo's 90 % interval holds the hand value.
    assert r["saving_low"] < r["saving_central"] < r["saving_high"]
    assert r["outcomes_low"] < 10.0 < r["outcomes_high"]
    assert (r["shortfall_pct"], r["baseline_value"], r["cohort"]) == (pytest.approx(20.0), 80.0, 1000.0)
    # Län 01 adds 0102 (500 × 10 % = 50 at risk): 250 at risk, 12,5 outcomes.
    lan = scenario_row(frame, "01")
    assert lan["outcomes_central"] == pytest.approx(12.5)
    assert lan["saving_central"] == pytest.approx(12.5 * 1_000_000 / 1.03 ** 2)
    # Riket leaves out 0201 (suppressed value), and says how much of the cohort that is.
    riket = scenario_row(frame, "00")
    assert riket["outcomes_central"] == pytest.approx(12.5)
    assert riket["coverage"] == pytest.approx(1500 / 2200)
    hidden = scenario_row(frame, "0201")
    assert hidden["status"] == "no_baseline" and hidden["saving_central"] is None
    assert scenario_row(frame, "02")["status"] == "no_baseline"


def test_break_even_probability_is_1_and_0_at_the_extremes():
    # Per participant the saving is at least 0,02 × 800 000 / 1,04² = 14 793 kr.
    cheap = prevention_scenarios([scenario(cost=fixed(1_000.0))], SETTINGS, BASELINE, COHORTS, KOMMUNER)
    dear = prevention_scenarios([scenario(cost=fixed(1_000_000.0))], SETTINGS, BASELINE, COHORTS, KOMMUNER)
    for area in ("0101", "01", "00"):
        assert scenario_row(cheap, area)["p_break_even"] == 1.0
        assert scenario_row(cheap, area)["break_even"] == "likely"
        assert scenario_row(dear, area)["p_break_even"] == 0.0
        assert scenario_row(dear, area)["break_even"] == "unlikely"
    # In between the draws decide, and a value near ½ reads "uncertain".
    middle = prevention_scenarios([scenario(cost=fixed(47_000.0))], SETTINGS, BASELINE, COHORTS, KOMMUNER)
    r = scenario_row(middle, "0101")
    assert 0.1 < r["p_break_even"] < 0.9 and r["break_even"] == "uncertain"
    # The kommun's fifth alone covers far less often than the whole saving.
    assert r["p_break_even_kommun"] < r["p_break_even"]


def test_the_monte_carlo_is_fixed_by_its_seed_and_the_same_draw_serves_every_kommun():
    a = prevention_scenarios([scenario()], SETTINGS, BASELINE, COHORTS, KOMMUNER)
    b = prevention_scenarios([scenario()], SETTINGS, BASELINE, COHORTS, KOMMUNER)
    assert a.equals(b)
    # 0101 has four times 0102's at-risk group: with common draws, every quantile is 4×.
    r1, r2 = scenario_row(a, "0101"), scenario_row(a, "0102")
    assert r1["saving_low"] == pytest.approx(4 * r2["saving_low"])
    assert r1["p_break_even"] == r2["p_break_even"]
    # Another scenario added before it changes none of its draws.
    other = scenario(id="other", title="Annat")
    both = prevention_scenarios([other, scenario()], SETTINGS, BASELINE, COHORTS, KOMMUNER)
    same = both.filter(pl.col("scenario_id") == "test")
    assert same.drop("scenario_order").equals(a.drop("scenario_order"))


def test_an_unverified_shadow_price_is_listed_not_computed():
    frame = prevention_scenarios([scenario(shadow_price=None)], SETTINGS, BASELINE, COHORTS, KOMMUNER)
    assert set(frame["status"]) == {"no_shadow_price"}
    assert frame["saving_central"].null_count() == frame.height


def test_discount_factor_of_a_lifetime_sum_matches_the_year_by_year_sum():
    rate, delay, years = 0.035, 9, 40
    by_hand = sum((1 + rate) ** -t for t in range(delay, delay + years)) / years
    assert float(discount_factor(rate, delay, years, "lifetime_sum")) == pytest.approx(by_hand, rel=1e-12)
    # (1 − 1,035⁻⁴⁰) / (1 − 1/1,035) = 22,1025 years' worth, 1,035⁻⁹ = 0,73373: 0,40543 per krona.
    assert float(discount_factor(rate, delay, years, "lifetime_sum")) == pytest.approx(0.405432, abs=1e-6)
    assert float(discount_factor(0.0, delay, years, "lifetime_sum")) == 1.0
    assert float(discount_factor(0.03, 2, None, "npv_at_outcome")) == pytest.approx(1 / 1.03 ** 2)


# -- the catalogues ------------------------------------------------------------------------


def test_the_shipped_catalogues_load_and_every_price_year_is_indexed():
    costs = load_late_cost(CATALOG / LATE_COST_FILE)
    scenarios = load_scenarios(CATALOG / SCENARIO_FILE, costs.catalog.price_index)
    assert costs.settings.price_year == 2023 and costs.catalog.price_index.values[2023] == 403.70
    assert {s.id for s in scenarios.entries} == {"gymnasieexamen", "unga_utanforskap", "yrkesbehorighet"}
    unverified = [s for s in scenarios.entries if s.shadow_price.value is None]
    assert [s.id for s in unverified] == ["yrkesbehorighet"] and "inte kunnat läsas" in unverified[0].shadow_price.caveat


def test_verified_ids_are_exactly_those_in_koladas_kpi_list_excerpt_with_the_same_title():
    with realdata("kolada_kpi_subset_2023-03-28.csv").open(encoding="utf-8") as f:
        listed = {r["id"]: r["title"] for r in csv.DictReader(f)}
    for entry in load_late_cost(CATALOG / LATE_COST_FILE).entries:
        if entry.verification == "verified":
            assert listed.get(entry.id) == entry.kolada_title, entry.id
        else:
            assert entry.id not in listed, f"{entry.id} is in the excerpt: mark it verified"


def test_every_cost_kpi_comes_through_the_v3_kpi_route_and_the_client():
    body = (FIXTURES / "kolada" / "kpi_late_cost.json").read_bytes()
    asked: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        ids = request.url.path.rsplit("/", 1)[1].split(",")
        doc = json.loads(body)
        doc["values"] = [v for v in doc["values"] if v["id"] in ids]
        return httpx.Response(200, json=doc)

    fetcher = Fetcher(httpx.Client(transport=httpx.MockTransport(server)), "kolada", None, None,
                      sleep=lambda s: None)
    entries = load_late_cost(CATALOG / LATE_COST_FILE).entries
    kpis = KoladaClient(fetcher, "http://kolada.test/v3").kpis([e.id for e in entries])
    assert asked == ["/v3/kpi/" + ",".join(sorted(e.id for e in entries))]
    titles = dict(zip(kpis["kpi_id"], kpis["title"], strict=True))
    assert titles == {e.id: e.kolada_title for e in entries}


def broken(tmp_path: Path, text: str, name: str = LATE_COST_FILE) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_broken_cost_entry_stops_with_entry_and_field(tmp_path):
    text = (CATALOG / LATE_COST_FILE).read_text(encoding="utf-8")
    path = broken(tmp_path, text.replace("    per: {from: 0, to: 20}\n", "    per: {from: 20, to: 0}\n", 1))
    with pytest.raises(CatalogError, match=r"kpi #1 \('N33006'\): field 'per': Value error, 'to' \(0\) is below 'from' \(20\)$"):
        load_late_cost(path)
    path = broken(tmp_path, text.replace("reference_for: ifo_netto", "reference_for: ifo"))
    with pytest.raises(CatalogError, match=r"kpi 'N30007': field 'reference_for': 'ifo' is not"):
        load_late_cost(path)
    path = broken(tmp_path, text.replace("price_year: 2023", "price_year: 2024"))
    with pytest.raises(CatalogError, match=r"field 'price_index': .*price_year 2024 has no value"):
        load_late_cost(path)


def test_a_broken_scenario_stops_with_scenario_and_field(tmp_path):
    index = load_late_cost(CATALOG / LATE_COST_FILE).catalog.price_index
    text = (CATALOG / SCENARIO_FILE).read_text(encoding="utf-8")
    path = broken(tmp_path, text.replace("      low: 0.02\n      mode: 0.05\n      high: 0.10",
                                         "      low: 0.2\n      mode: 0.05\n      high: 0.10", 1),
                  SCENARIO_FILE)
    with pytest.raises(CatalogError, match=r"scenario #1 \('gymnasieexamen'\): field 'effect'.*low ≤ mode ≤ high"):
        load_scenarios(path, index)
    path = broken(tmp_path, text.replace("      price_year: 2010\n", "      price_year: 1999\n"), SCENARIO_FILE)
    with pytest.raises(CatalogError, match=r"scenario 'unga_utanforskap': field 'shadow_price.price_year': 1999 is not in the price index"):
        load_scenarios(path, index)
    path = broken(tmp_path, text.replace("      high: 0.25\n", "      high: 0.75\n", 1), SCENARIO_FILE)
    with pytest.raises(CatalogError, match=r"gymnasieexamen.*kommun_share.high \(0.75\) exceeds the public share"):
        load_scenarios(path, index)


def test_triangular_draws_stay_within_their_range():
    draws = Triangular(1.0, 2.0, 5.0).draw(np.random.default_rng(1), 10_000)
    assert draws.min() >= 1.0 and draws.max() <= 5.0
    assert np.mean(draws) == pytest.approx((1 + 2 + 5) / 3, abs=0.05)


# -- a retired cost KPI costs only itself ----------------------------------------------------


def test_a_retired_cost_kpi_is_isolated_and_listed(kommuner, catalog_indicators, tmp_path):
    from checks.models import KoladaValue
    from checks.validate import failures_by
    from sources.catalog import indicators_frame
    from sources.demo.apis import DEMO_KOLADA_URL, demo_transport
    from sources.demo.costs import cost_indicators
    from sources.demo.world import DemoWorld
    from sources.health_economics_catalog import health_kpis
    from sources.kolada_refresh import FULL, Use, refresh_kolada
    from sources.raw_store import RawStore
    from transforms.data_quality import data_quality

    years = [2021, 2022, 2023]
    costs = load_late_cost(CATALOG / LATE_COST_FILE)
    indicator = [i for i in catalog_indicators if i.source_id == "N15428"]
    world = DemoWorld.build(kommuner, indicator + cost_indicators(CATALOG), years)
    retired = world.variant(kpi_retired={"N33002"})
    fetcher = Fetcher(httpx.Client(transport=demo_transport(retired)), "kolada", None, None,
                      sleep=lambda s: None)
    uses = {"N15428": Use(("N15428",), False, "proportion")}
    uses |= {kpi: Use((), False, kind) for kpi, kind in health_kpis(CATALOG).items()}
    areas = set(kommuner["kommun_code"]) | {"0000"} | {f"00{c}" for c in kommuner["lan_code"].unique()}
    result = refresh_kolada(KoladaClient(fetcher, DEMO_KOLADA_URL), RawStore(tmp_path), uses, None,
                            FULL, years, areas, "2026-12-07T03:30:00Z",
                            lambda f: failures_by(f, KoladaValue, "kpi"))
    states = dict(zip(result.vintage["kpi_id"], result.vintage["state"], strict=True))
    assert states.pop("N33002") == "unavailable"
    assert set(states.values()) == {"fresh"}   # the indicator and the nine other cost KPIs
    assert "N33002" not in set(result.values["kpi"])

    band = world.band(0, 20).sum(axis=2)
    pop = pl.DataFrame([{"area_code": code, "year": year, "sex": "T", "band": "0-20",
                         "population": float(band[k, y])}
                        for k, code in enumerate(world.kommun_codes) for y, year in enumerate(years)],
                       schema={"area_code": pl.String, "year": pl.Int32, "sex": pl.String,
                               "band": pl.String, "population": pl.Float64})
    frame = late_cost(result.values, pop, kommuner, costs.settings)
    assert "hvb" not in set(frame["cost_kind"])
    total = frame.filter((pl.col("cost_kind") == "barn_unga_total") & (pl.col("area_type") == "kommun"))
    assert total["area_code"].n_unique() == 290 and total["value"].null_count() < 10

    catalog = indicators_frame(indicator)
    quality = data_quality(result.vintage, catalog, None, "2026-12-07", frozenset(costs.kpi_ids))
    row = quality.row(0, named=True)
    assert quality.height == 1 and (row["indicator_id"], row["problem"], row["state"]) == (
        "N33002", "unknown_id", "unavailable")
    assert row["used_for"] == "health_economics" and "N33002" in row["message"]
