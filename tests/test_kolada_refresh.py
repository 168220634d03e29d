"""Per-KPI refresh against the previous vintage, on the demo Kolada service (real client,
real wire format, raw store on disk)."""

from __future__ import annotations

from datetime import date

import httpx
import polars as pl
import pytest

from checks.models import KoladaValue
from checks.validate import failures_by
from sources.demo.apis import DEMO_KOLADA_URL, demo_transport
from sources.demo.world import DemoWorld
from sources.http import Fetcher, SourceUnavailable
from sources.kolada import KoladaClient
from sources.kolada_refresh import (FULL, INCREMENTAL, REPLAY, Use, load_acceptances,
                                    refresh_kolada)
from sources.raw_store import RawStore

YEARS = [2021, 2022, 2023, 2024]
KPIS = ["N15428", "N07403", "U07417", "N02901"]
NOW = "2026-11-23T03:30:00Z"


@pytest.fixture(scope="module")
def world(kommuner, catalog_indicators):
    chosen = [i for i in catalog_indicators if i.source_id in KPIS]
    return DemoWorld.build(kommuner, chosen, YEARS)


@pytest.fixture(scope="module")
def known_areas(kommuner):
    return set(kommuner["kommun_code"]) | {"0000"} | {f"00{c}" for c in kommuner["lan_code"].unique()}


def client(world, requests=None, fault=None, **source) -> KoladaClient:
    inner = demo_transport(world.variant(**source))

    def handler(request):
        if requests is not None:
            requests.append(request)
        response = inner.handle_request(request)
        return (fault(request, response) if fault else None) or response

    store_less = Fetcher(httpx.Client(transport=httpx.MockTransport(handler)), "kolada", None,
                         None, sleep=lambda s: None)
    return KoladaClient(store_less, DEMO_KOLADA_URL)


def check(frame: pl.DataFrame) -> dict[str, str]:
    return failures_by(frame, KoladaValue, "kpi")


USES = {k: Use((k,), False) for k in KPIS}


def refresh(world, store, known_areas, previous=None, mode=FULL, uses=USES, acceptances=None,
            requests=None, fault=None, refetch=(), **source):
    c = client(world, requests, fault, **source)
    c.fetcher.store = store
    return refresh_kolada(c, store, uses, previous, mode, YEARS, known_areas, NOW, check,
                          acceptances, refetch)


def rows(result) -> list[dict]:
    return result.vintage.to_dicts()


def state(result, kpi) -> dict:
    return result.vintage.filter(pl.col("kpi_id") == kpi).row(0, named=True)


def test_first_refresh_takes_every_kpi_and_records_its_responses(world, known_areas, tmp_path):
    store = RawStore(tmp_path)
    result = refresh(world, store, known_areas)
    assert result.vintage["state"].to_list() == ["fresh"] * 4 and result.problems.is_empty()
    direct = client(world).values(KPIS, YEARS, known_areas)
    cols = ["kpi", "municipality", "period", "gender", "status", "value"]
    assert result.values.select(cols).sort(cols[:4]).equals(direct.select(cols).sort(cols[:4]))
    for row in rows(result):  # every response named in the vintage is in the store
        assert all(store.has("kolada", sha) for sha in row["pages"].split(","))


def test_unknown_and_empty_kpis_are_unavailable_and_the_rest_is_taken(world, known_areas, tmp_path):
    uses = {**USES, "N99999": Use(("N99999",))}
    result = refresh(world, RawStore(tmp_path), known_areas, uses=uses, kpi_empty={"N02901"})
    unknown, empty = state(result, "N99999"), state(result, "N02901")
    assert (unknown["state"], unknown["problem"], unknown["pages"]) == ("unavailable", "unknown_id", None)
    assert (empty["state"], empty["problem"]) == ("unavailable", "no_data")
    assert "inga värden för N02901 för åren 2021–2024" in empty["message"]
    assert "inga tidigare värden" in empty["message"]
    assert set(result.values["kpi"]) == {"N15428", "N07403", "U07417"}
    assert not result.nothing_new


def test_a_95_fold_rescale_is_blocked_naming_kpi_years_and_factor(world, known_areas, tmp_path):
    store = RawStore(tmp_path)
    first = refresh(world, store, known_areas)
    second = refresh(world, store, known_areas, previous=rows(first), kpi_scale={"N07403": 95.0})
    blocked = state(second, "N07403")
    assert (blocked["state"], blocked["problem"]) == ("blocked", "drift")
    assert "N07403" in blocked["message"] and "2021–2024" in blocked["message"]
    assert "i median 95 gånger" in blocked["message"]
    assert blocked["pages"] == state(first, "N07403")["pages"]  # the old vintage is kept
    old = first.values.filter(pl.col("kpi") == "N07403")
    kept = second.values.filter(pl.col("kpi") == "N07403")
    assert kept.select("municipality", "period", "gender", "value").equals(
        old.select("municipality", "period", "gender", "value"))
    assert state(second, "N15428")["state"] == "fresh"


def test_a_revision_is_not_a_level_shift(world, known_areas, tmp_path):
    store = RawStore(tmp_path)
    first = refresh(world, store, known_areas)
    second = refresh(world, store, known_areas, previous=rows(first), kpi_scale={"N07403": 1.1})
    assert state(second, "N07403")["state"] == "fresh"


def test_a_unit_change_in_the_title_blocks_until_accepted(world, known_areas, tmp_path):
    store = RawStore(tmp_path)
    first = refresh(world, store, known_areas)
    new_title = "Anmälda våldsbrott, antal/100 000 inv"
    second = refresh(world, store, known_areas, previous=rows(first), kpi_titles={"U07417": new_title})
    blocked = state(second, "U07417")
    assert (blocked["state"], blocked["problem"]) == ("blocked", "unit_changed")
    assert "'antal/1000inv' till 'antal/100000inv'" in blocked["message"]
    third = refresh(world, store, known_areas, previous=rows(second), kpi_titles={"U07417": new_title})
    assert state(third, "U07417")["state"] == "blocked"  # still compared with the old unit
    accepted = {"U07417": date.today().isoformat()}
    fourth = refresh(world, store, known_areas, previous=rows(third), acceptances=accepted,
                     kpi_titles={"U07417": new_title})
    assert state(fourth, "U07417")["state"] == "fresh"
    assert state(fourth, "U07417")["unit"] == "antal/100000inv"


def test_acceptance_file_is_read_and_checked(tmp_path):
    path = tmp_path / "accepted_changes.yaml"
    assert load_acceptances(path) == {}
    path.write_text("accepted:\n  - kpi: N07403\n    accepted_on: 2026-11-23\n    reason: ny skala\n")
    assert load_acceptances(path) == {"N07403": "2026-11-23"}
    path.write_text("accepted:\n  - kpi: X1\n    accepted_on: 2026-11-23\n    reason: ny skala\n")
    with pytest.raises(ValueError, match="accepted_changes.yaml"):
        load_acceptances(path)


def test_one_broken_object_costs_only_its_kpi(world, known_areas, tmp_path):
    store = RawStore(tmp_path)
    first = refresh(world, store, known_areas)

    def broken(request, response):
        if "/data/kpi/" in request.url.path:
            doc = response.json()
            target = next((o for o in doc["values"] if o["kpi"] == "N02901"), None)
            if target:
                del target["period"]
            return httpx.Response(200, json=doc)

    second = refresh(world, store, known_areas, previous=rows(first), fault=broken)
    stale = state(second, "N02901")
    assert (stale["state"], stale["problem"]) == ("stale", "bad_response")
    # Swedish and without the request's address where people read it; the error itself for the log
    assert "gick inte att läsa: uppgiften om år (period) saknades." in stale["message"]
    assert "Senast godkända värden" in stale["message"] and "http" not in stale["message"]
    assert "missing field 'period'" in second.details["N02901"] and "/data/kpi/" in second.details["N02901"]
    assert [state(second, k)["state"] for k in ("N07403", "N15428", "U07417")] == ["fresh"] * 3
    assert second.values.filter(pl.col("kpi") == "N02901").drop("fetched_at").equals(
        first.values.filter(pl.col("kpi") == "N02901").drop("fetched_at"))


def test_a_broken_shared_answer_is_asked_again_one_kpi_at_a_time(world, known_areas, tmp_path):
    requests: list[httpx.Request] = []

    def broken(request, response):
        if "/data/kpi/" in request.url.path and "N02901" in request.url.path:
            return httpx.Response(200, json={"values": "oops"})

    result = refresh(world, RawStore(tmp_path), known_areas, requests=requests, fault=broken)
    assert state(result, "N02901")["problem"] == "bad_response"
    assert "svaret saknade Koladas lista med värden" in state(result, "N02901")["message"]
    assert "expected an object with a 'values' list" in result.details["N02901"]
    assert [state(result, k)["state"] for k in ("N07403", "N15428", "U07417")] == ["fresh"] * 3
    paths = [r.url.path.split("/")[4] for r in requests if "/data/kpi/" in r.url.path]
    assert paths == [",".join(sorted(KPIS))] + sorted(KPIS)


def test_incremental_asks_only_what_changed(world, known_areas, tmp_path):
    store = RawStore(tmp_path)
    first = refresh(world, store, known_areas)
    quiet: list[httpx.Request] = []
    same = refresh(world, store, known_areas, previous=rows(first), mode=INCREMENTAL, requests=quiet)
    assert same.vintage["state"].to_list() == ["kept"] * 4 and same.fetched == 0
    assert [r.url.params.get("from_date") for r in quiet if "/data/" in r.url.path] == ["2026-11-23"]
    assert same.values.drop("fetched_at").equals(first.values.drop("fetched_at"))
    busy: list[httpx.Request] = []
    changed = refresh(world, store, known_areas, previous=rows(first), mode=INCREMENTAL,
                      requests=busy, kpi_modified={"N15428": "2026-11-24"}, kpi_scale={"N15428": 0.99})
    assert state(changed, "N15428")["state"] == "fresh"
    assert sorted(set(changed.vintage["state"])) == ["fresh", "kept"]
    full_fetches = [r.url.path for r in busy if "/data/" in r.url.path and "from_date" not in r.url.params]
    assert full_fetches == [f"/v3/data/kpi/N15428/year/{','.join(map(str, YEARS))}"]


def test_a_share_above_100_costs_nothing_here(world, known_areas, tmp_path):
    """Issue 15 #1: a share above 100 % can be real (N11821); the series is taken, and each
    value outside the catalogue's range is flagged where it shows (tests/test_data_quality.py)."""
    result = refresh(world, RawStore(tmp_path), known_areas, kpi_scale={"N15428": 1.2})
    taken = state(result, "N15428")
    assert (taken["state"], taken["problem"]) == ("fresh", None)
    assert result.values.filter(pl.col("kpi") == "N15428")["value"].max() > 100


def test_a_value_with_privacy_status_fails_only_its_kpi(world, known_areas, tmp_path):
    def leaky(request, response):
        if "/data/kpi/" in request.url.path:
            doc = response.json()
            for obj in doc["values"]:
                if obj["kpi"] == "N07403":
                    obj["values"][0].update(status="Privacy", value=3.0)
                    break
            return httpx.Response(200, json=doc)

    result = refresh(world, RawStore(tmp_path), known_areas, fault=leaky)
    failed = state(result, "N07403")
    assert (failed["state"], failed["problem"]) == ("unavailable", "failed_check")
    assert "markerat som sekretesskyddat har ändå en siffra (område " in failed["message"]
    assert [state(result, k)["state"] for k in ("N02901", "N15428", "U07417")] == ["fresh"] * 3


def test_replay_reads_the_recorded_responses_without_a_client(world, known_areas, tmp_path):
    store = RawStore(tmp_path)
    first = refresh(world, store, known_areas, kpi_scale={"N07403": 1.0})
    replayed = refresh_kolada(None, store, USES, rows(first), REPLAY, YEARS, known_areas, NOW, check)
    assert replayed.values.equals(first.values)
    assert replayed.kpis.equals(first.kpis)
    assert replayed.vintage.equals(first.vintage)


def test_a_host_that_refuses_connections_stops_the_refresh(world, known_areas, tmp_path):
    def refused(request):
        raise httpx.ConnectError("Connection refused", request=request)

    fetcher = Fetcher(httpx.Client(transport=httpx.MockTransport(refused)), "kolada", None, None,
                      sleep=lambda s: None)
    with pytest.raises(SourceUnavailable, match="servern kolada.demo går inte att nå"):
        refresh_kolada(KoladaClient(fetcher, DEMO_KOLADA_URL), RawStore(tmp_path), USES, None,
                       FULL, YEARS, known_areas, NOW, check)


def test_a_kpi_without_values_is_asked_again_only_on_news_or_when_told(world, known_areas, tmp_path):
    """Issue 15 #2: a KPI Kolada has no values for is not fetched every night. It is part of
    the night's question what changed (values arriving are a change) and is asked in full
    only when the caller says so (the Sunday look, a full build)."""
    store = RawStore(tmp_path)
    first = refresh(world, store, known_areas, kpi_empty={"N15428"})
    assert (state(first, "N15428")["state"], state(first, "N15428")["problem"]) == ("unavailable", "no_data")
    asked: list[httpx.Request] = []
    quiet = refresh(world, store, known_areas, previous=rows(first), mode=INCREMENTAL, requests=asked,
                    kpi_empty={"N15428"})
    assert quiet.fetched == 0 and state(quiet, "N15428")["state"] == "unavailable"
    data_asks = [r for r in asked if "/data/" in r.url.path]
    assert [r.url.params.get("from_date") for r in data_asks] == ["2026-11-23"]  # one question
    assert "N15428" in data_asks[0].url.path                                      # it is in it
    assert state(quiet, "N15428")["message"] == state(first, "N15428")["message"]
    # values arrive with an old change date: not seen until asked in full
    missed = refresh(world, store, known_areas, previous=rows(first), mode=INCREMENTAL)
    assert missed.fetched == 0 and state(missed, "N15428")["state"] == "unavailable"
    told = refresh(world, store, known_areas, previous=rows(first), mode=INCREMENTAL, refetch={"N15428"})
    assert told.fetched == 1 and state(told, "N15428")["state"] == "fresh"
    # values with a new change date are news
    news = refresh(world, store, known_areas, previous=rows(first), mode=INCREMENTAL,
                   kpi_modified={"N15428": "2026-11-24"})
    assert news.fetched == 1 and state(news, "N15428")["state"] == "fresh"


def test_a_cost_kpi_with_an_impossible_value_is_still_refused(world, known_areas, tmp_path):
    """A KPI read only for the cost catalogue (no indicator shows it, so no footnote can)
    keeps its whole-series check: kronor per resident are never negative."""
    uses = {**USES, "N07403": Use((), False, "rate")}
    result = refresh(world, RawStore(tmp_path), known_areas, uses=uses, kpi_scale={"N07403": -1.0})
    failed = state(result, "N07403")
    assert (failed["state"], failed["problem"]) == ("unavailable", "failed_check")
    assert "omöjliga för typen rate" in failed["message"]
