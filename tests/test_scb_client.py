"""SCB PxWebApi 2.0 client against real json-stat2 responses and the demo service."""

from __future__ import annotations

import itertools
import json
import math

import httpx
import polars as pl
import pytest

from sources.catalog import AgeBand, PopulationTable
from sources.http import ApiError, Fetcher, RateLimiter
from sources.kolada import MalformedResponse
from sources.scb import ScbClient, cell_count, decode_jsonstat2, fetch_population, split_selection
from tests.conftest import realdata

BASE = "http://scb.test/api/v2"


def scb_client(handler, **fetcher_args) -> ScbClient:
    fetcher = Fetcher(httpx.Client(transport=httpx.MockTransport(handler)), "scb",
                      RateLimiter(1000, 1.0, sleep=lambda s: None), None,
                      sleep=lambda s: None, **fetcher_args)
    return ScbClient(fetcher, BASE)


def test_decodes_real_tab6471_response_by_category_index():
    doc = json.loads(realdata("scb-pxwebapi2-samples", "TAB6471_data.json").read_text())
    frame = decode_jsonstat2(doc, "TAB6471")
    assert frame.height == math.prod(doc["size"]) == 2772
    assert frame.columns == ["Region", "Alder", "Kon", "ContentsCode", "Tid", "value", "status"]
    # Independent check: position = row-major offset computed from category.index.
    dims = doc["id"]
    for codes in [("01", "0-9", "TotSa", "000007SF", "2026M01"),
                  ("25", "10-19", "2", "000007SF", "2026M04"),
                  ("05", "20-29", "1", "000007SF", "2026M02")]:
        pos = 0
        for dim, code, size in zip(dims, codes, doc["size"], strict=True):
            pos = pos * size + doc["dimension"][dim]["category"]["index"][code]
        row = frame.filter(*[pl.col(d) == c for d, c in zip(dims, codes, strict=True)])
        assert row["value"].item() == doc["value"][pos]
    # The first values of the real response are Stockholms län, 0–9 år, all sexes, Jan–Apr.
    first = frame.filter(pl.col("Region") == "01", pl.col("Alder") == "0-9", pl.col("Kon") == "TotSa")
    assert first["value"].to_list() == [245284, 247245, 249358, 251635]


def test_decoder_ignores_json_key_order():
    doc = json.loads(realdata("scb-pxwebapi2-samples", "TAB6471_data.json").read_text())
    expected = decode_jsonstat2(doc, "TAB6471").sort("Region", "Alder", "Kon", "Tid")
    shuffled = dict(doc)
    dimension = dict(doc["dimension"])
    region = dict(dimension["Region"])
    index = region["category"]["index"]
    region["category"] = {**region["category"], "index": dict(reversed(list(index.items())))}
    dimension["Region"] = region
    shuffled["dimension"] = dimension
    assert decode_jsonstat2(shuffled, "shuffled").sort("Region", "Alder", "Kon", "Tid").equals(expected)


def test_decodes_real_tab5557_excerpt_into_population():
    """The 16 hand-transcribed TAB5557 values, in the json-stat2 shape SCB serves."""
    rows = pl.read_csv(realdata("scb-tab5557-excerpt", "population_0_19_5yr_2025_excerpt.csv"),
                       schema_overrides={"region_code": pl.String, "age_code": pl.String})
    regions = rows["region_code"].unique(maintain_order=True).to_list()
    ages = rows["age_code"].unique(maintain_order=True).to_list()
    lookup = {(r["region_code"], r["age_code"]): r["population"] for r in rows.to_dicts()}
    doc = {"version": "2.0", "class": "dataset", "id": ["Region", "Alder", "ContentsCode", "Tid"],
           "size": [len(regions), len(ages), 1, 1],
           "dimension": {"Region": {"category": {"index": {c: i for i, c in enumerate(regions)}}},
                         "Alder": {"category": {"index": {c: i for i, c in enumerate(ages)}}},
                         "ContentsCode": {"category": {"index": {"000007ME": 0}}},
                         "Tid": {"category": {"index": {"2025": 0}}}},
           "value": [lookup[(r, a)] for r, a in itertools.product(regions, ages)]}
    frame = decode_jsonstat2(doc, "TAB5557 excerpt")
    malmo = frame.filter(pl.col("Region") == "1280")["value"].sum()
    assert malmo == 21009 + 20646 + 20876 + 20268


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(value=d["value"][:-1]), "expected 2772 values"),
    (lambda d: d.update(size=[21, 11, 3, 1, 5]), "has 4 codes, size says 5"),
    (lambda d: d.pop("id"), "missing or bad 'id'"),
    (lambda d: d.update({"class": "collection"}), "not a json-stat2 dataset"),
    (lambda d: d["value"].__setitem__(7, "12"), r"value\[7\] is not a number"),
])
def test_broken_jsonstat2_names_the_problem(mutate, message):
    doc = json.loads(realdata("scb-pxwebapi2-samples", "TAB6471_data.json").read_text())
    mutate(doc)
    with pytest.raises(MalformedResponse, match=message):
        decode_jsonstat2(doc, "POST TAB6471")


def test_split_selection_respects_cell_limit_and_covers_everything():
    selection = {"Region": [f"{i:04d}" for i in range(290)], "Alder": [str(a) for a in range(26)],
                 "Kon": ["1", "2"], "Civilstand": ["OG", "G", "SK", "ÄNKL"],
                 "ContentsCode": ["BE0101N1"], "Tid": [str(y) for y in range(2015, 2025)]}
    parts = split_selection(selection, 150_000)
    assert len(parts) > 1
    assert all(cell_count(p) <= 150_000 for p in parts)
    covered = {cell for p in parts for cell in itertools.product(*p.values())}
    assert len(covered) == cell_count(selection)


def test_config_limits_are_read_from_real_config():
    config = json.loads(realdata("scb-pxwebapi2-samples", "config.json").read_text())

    def handler(request):
        return httpx.Response(200, json=config)

    assert scb_client(handler).config()["maxDataCells"] == 150000


def _demo_scb(kommuner, catalog_indicators, years):
    from sources.demo.apis import DEMO_SCB_URL, demo_transport
    from sources.demo.world import DemoWorld

    world = DemoWorld.build(kommuner, catalog_indicators, years)
    calls = []
    transport = demo_transport(world)

    def handler(request):
        calls.append(request)
        return transport.handle_request(request)

    fetcher = Fetcher(httpx.Client(transport=httpx.MockTransport(handler)), "scb",
                      RateLimiter(1000, 1.0, sleep=lambda s: None), None, sleep=lambda s: None)
    return ScbClient(fetcher, DEMO_SCB_URL), world, calls


def test_population_sums_civil_status_and_uses_the_table_for_each_year(kommuner, catalog_indicators,
                                                                       source_settings):
    client, world, calls = _demo_scb(kommuner, catalog_indicators, [2023, 2024, 2025])
    codes = kommuner["kommun_code"].to_list()
    frame = fetch_population(client, source_settings.scb.population_tables, [2023, 2024, 2025],
                             codes, AgeBand(**{"from": 0, "to": 2}))
    assert set(frame["table_id"]) == {"TAB638", "TAB5557"}
    assert frame.filter(pl.col("year") == 2025)["perturbed"].all()
    # TAB638 rows equal the true population (four civil statuses added back together).
    k = codes.index("0580")
    y = world.years.index(2024)
    row = frame.filter(pl.col("region") == "0580", pl.col("year") == 2024,
                       pl.col("age_code") == "1", pl.col("sex_code") == "2")
    assert row["population"].item() == world.population[k, y, 1, 1]
    total = frame.filter(pl.col("region") == "0580", pl.col("year") == 2024,
                         pl.col("age_code") == "tot", pl.col("sex_code") == "1")
    assert total["population"].item() == world.population[k, y, :, 0].sum()
    posts = [c for c in calls if c.method == "POST"]
    assert all(cell_count({s["variableCode"]: s["valueCodes"]
                           for s in json.loads(c.content)["selection"]}) <= 150_000 for c in posts)


def test_variable_that_cannot_be_eliminated_must_be_configured(kommuner, catalog_indicators):
    client, _, _ = _demo_scb(kommuner, catalog_indicators, [2024])
    table = PopulationTable(table="TAB638", contents="BE0101N1", first_year=1968, last_year=2024,
                            total_age="tot")  # 'other' left out: Civilstand missing
    with pytest.raises(MalformedResponse, match="'Civilstand' cannot be eliminated"):
        fetch_population(client, [table], [2024], ["0580"], AgeBand(**{"from": 0, "to": 1}))


def test_server_error_on_duplicate_codes_is_retried_then_reported():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(500, content=b"")

    client = scb_client(handler, max_retries=1)
    with pytest.raises(ApiError, match=r"scb: POST http://scb.test/api/v2/tables/TAB638/data.*HTTP 500"):
        client.data("TAB638", {"Region": ["0580", "0580"]}, 150_000)
    assert len(calls) == 2


def test_a_table_without_the_builds_years_is_not_asked_again_every_night():
    """SCB a year behind: the newest table has none of the years yet (pages ""). The nightly
    probe refetches it when its stamp changes or its stored answers are lost, not every night."""
    from sources.catalog import PopulationTable
    from sources.scb_refresh import tables_changed

    class Stamps:
        def table_updated(self, table_id):
            return "2026-03-20T07:00:00Z"

    table = PopulationTable(table="TAB5557", contents="000001", first_year=2025, total_age="tot")
    row = {"table_id": "TAB5557", "updated": "2026-03-20T07:00:00Z", "pages": ""}
    assert tables_changed(Stamps(), [table], {"TAB5557": row}) == {}
    assert tables_changed(Stamps(), [table], {"TAB5557": row | {"pages": None}}) == {"TAB5557": "2026-03-20T07:00:00Z"}
    assert tables_changed(Stamps(), [table], {"TAB5557": row | {"updated": "2025-03-20T07:00:00Z"}}) != {}
    assert tables_changed(Stamps(), [table], {}) == {"TAB5557": "2026-03-20T07:00:00Z"}
