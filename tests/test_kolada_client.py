"""Kolada v3 client: chunking, pagination, retries, raw storage and clear errors."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from sources.http import ApiError, Fetcher, RateLimiter
from sources.kolada import KoladaClient, MalformedResponse
from sources.raw_store import RawStore
from tests.conftest import FIXTURES

BASE = "http://kolada.test/v3"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / "kolada" / name).read_bytes()


class FakeKolada:
    """Serves recorded pages by path and page number; records every request."""

    def __init__(self, pages: dict[tuple[str, int], bytes | httpx.Response]):
        self.pages = pages
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        page = int(request.url.params.get("page", 1))
        answer = self.pages.get((request.url.path, page))
        if answer is None:
            return httpx.Response(200, json={"values": [], "count": 0})
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, content=answer, headers={"content-type": "application/json"})


def client_for(server, tmp_path=None, **fetcher_args) -> KoladaClient:
    store = RawStore(tmp_path) if tmp_path else None
    sleeps: list[float] = []
    fetcher = Fetcher(httpx.Client(transport=httpx.MockTransport(server)), "kolada",
                      RateLimiter(1000, 1.0, sleep=sleeps.append), store,
                      sleep=sleeps.append, **fetcher_args)
    client = KoladaClient(fetcher, BASE, per_page=2)
    client.sleeps = sleeps
    return client


def test_follows_next_url_and_parses_real_shape(tmp_path):
    server = FakeKolada({
        ("/v3/data/kpi/N00945/year/2000", 1): fixture_bytes("data_N00945_page1.json"),
        ("/v3/data/kpi/N00945/year/2000", 2): fixture_bytes("data_N00945_page2.json"),
    })
    frame = client_for(server, tmp_path).values(["N00945"], [2000])
    assert len(server.requests) == 2
    rows = {r["municipality"]: r for r in frame.to_dicts()}
    assert rows["0180"]["value"] == 31.3 and rows["1280"]["value"] == 28.4
    assert rows["1480"]["status"] == "Privacy" and rows["1480"]["value"] is None
    assert frame["period"].to_list() == [2000] * 4


def test_falls_back_to_v2_next_page_spelling():
    page1 = json.loads(fixture_bytes("data_N00945_page1.json"))
    page1["next_page"] = page1.pop("next_url")
    server = FakeKolada({
        ("/v3/data/kpi/N00945/year/2000", 1): json.dumps(page1).encode(),
        ("/v3/data/kpi/N00945/year/2000", 2): fixture_bytes("data_N00945_page2.json"),
    })
    assert client_for(server).values(["N00945"], [2000]).height == 4


def test_chunks_ids_and_years_at_25():
    server = FakeKolada({})
    kpis = [f"N{n:05d}" for n in range(30)]
    years = list(range(1990, 2020))
    client_for(server).values(kpis, years)
    segments = [r.url.path.split("/") for r in server.requests]
    assert len(server.requests) == 4  # 2 KPI chunks × 2 year chunks
    assert all(len(s[4].split(",")) <= 25 and len(s[6].split(",")) <= 25 for s in segments)
    asked = {(k, y) for s in segments for k in s[4].split(",") for y in s[6].split(",")}
    assert asked == {(k, str(y)) for k in kpis for y in years}


def test_kpi_metadata_keeps_title_as_fetched():
    server = FakeKolada({("/v3/kpi/N00945,N15428", 1): fixture_bytes("kpi_N00945_N15428.json")})
    kpis = client_for(server).kpis(["N15428", "N00945"])
    assert kpis["kpi_id"].to_list() == ["N00945", "N15428"]
    assert kpis.filter(kpis["kpi_id"] == "N15428")["is_divided_by_gender"].item() is True


def test_retries_429_honouring_retry_after_then_succeeds(tmp_path):
    busy = httpx.Response(429, headers={"retry-after": "7"})
    answers = iter([busy, httpx.Response(503), None])

    def server(request):
        answer = next(answers)
        if answer is None:
            return httpx.Response(200, content=fixture_bytes("data_N00945_page2.json"),
                                  headers={"content-type": "application/json"})
        return answer

    client = client_for(server, tmp_path)
    frame = client.values(["N00945"], [2000])
    assert frame.height == 2
    assert client.sleeps == [7.0, 2.0]  # Retry-After, then exponential backoff (1 s · 2¹)


def test_gives_up_after_retries_naming_the_request():
    def server(request):
        raise httpx.ReadTimeout("slow", request=request)

    client = client_for(server, max_retries=2)
    with pytest.raises(ApiError, match=r"GET http://kolada.test/v3/data/kpi/N00945/year/2000.*3 attempts.*timeout"):
        client.values(["N00945"], [2000])


def test_client_error_is_not_retried():
    calls = []

    def server(request):
        calls.append(request)
        return httpx.Response(400, json={"error": "bad"})

    with pytest.raises(ApiError, match="HTTP 400"):
        client_for(server).values(["N00945"], [2000])
    assert len(calls) == 1


@pytest.mark.parametrize("body, message", [
    (b'{"count": 0}', "expected an object with a 'values' list"),
    (b'{"values": {"a": 1}}', "expected an object with a 'values' list"),
    (b'<html>maintenance</html>', "not valid JSON"),
    (json.dumps({"values": [{"kpi": "N00945", "municipality": "0180", "period": "tjugo",
                             "values": []}]}).encode(), r"values\[0\]: field 'period': not a year"),
    (json.dumps({"values": [{"kpi": "N00945", "municipality": "0180", "period": 2000,
                             "values": [{"gender": "X", "value": 1.0}]}]}).encode(),
     r"values\[0\].values\[0\]: field 'gender': unknown code 'X'"),
    (json.dumps({"values": [{"kpi": "N00945", "period": 2000, "values": []}]}).encode(),
     "missing field 'municipality'"),
])
def test_malformed_page_names_request_and_row(body, message):
    server = FakeKolada({("/v3/data/kpi/N00945/year/2000", 1): body})
    with pytest.raises(ApiError, match=message) as err:
        client_for(server).values(["N00945"], [2000])
    assert "/v3/data/kpi/N00945/year/2000" in str(err.value)


def test_unknown_municipality_code_is_an_error():
    server = FakeKolada({
        ("/v3/data/kpi/N00945/year/2000", 1): fixture_bytes("data_N00945_page1.json"),
        ("/v3/data/kpi/N00945/year/2000", 2): fixture_bytes("data_N00945_page2.json"),
    })
    with pytest.raises(MalformedResponse, match=r"values\[1\]: unknown municipality code '1280'"):
        client_for(server).values(["N00945"], [2000], known_areas={"0180", "1480", "0000"})


def test_pagination_loop_is_detected():
    page = json.loads(fixture_bytes("data_N00945_page1.json"))
    page["next_url"] = f"{BASE}/data/kpi/N00945/year/2000?page=1&per_page=2"
    server = FakeKolada({("/v3/data/kpi/N00945/year/2000", 1): json.dumps(page).encode()})
    with pytest.raises(MalformedResponse, match="pagination loops"):
        client_for(server).values(["N00945"], [2000])


def test_every_response_is_stored_unchanged_with_request_time_and_hash(tmp_path):
    pages = {("/v3/data/kpi/N00945/year/2000", 1): fixture_bytes("data_N00945_page1.json"),
             ("/v3/data/kpi/N00945/year/2000", 2): fixture_bytes("data_N00945_page2.json")}
    client_for(FakeKolada(pages), tmp_path).values(["N00945"], [2000])
    store = RawStore(tmp_path)
    manifest = store.manifest()
    assert manifest.height == 2
    for row, body in zip(manifest.to_dicts(), pages.values(), strict=True):
        assert (tmp_path / row["path"]).read_bytes() == body
        assert row["sha256"] == hashlib.sha256(body).hexdigest()
        assert row["url"].startswith(f"{BASE}/data/kpi/N00945/year/2000")
        assert row["fetched_at"].endswith("Z") and row["method"] == "GET"


def test_rate_limiter_keeps_calls_per_window():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(5, 1.0, clock=lambda: now[0], sleep=sleep)
    stamps = []
    for _ in range(12):
        limiter.wait()
        stamps.append(now[0])
    for i in range(len(stamps) - 5):
        assert stamps[i + 5] - stamps[i] >= 1.0 - 1e-9
    assert stamps[-1] == pytest.approx(2.0)


def _careful_and_columnar(body: bytes):
    """The rows the careful parser reads from a page, and the rows read in columns."""
    from sources.kolada import Page, read_page
    from sources.kolada_refresh import PageCache

    page, _ = read_page(body, None, "test", lambda raw, _: json.loads(raw))
    cache = PageCache(None, None)
    careful = cache._parse(Page(json.loads(body)["values"], None, "test"))
    return page, cache._parse(page), careful


def test_a_regular_page_read_in_columns_equals_the_careful_parse():
    """Kolada's pages are read by Arrow into columns (a large catalogue has millions of
    values); the rows, their order and the next page must be what the careful parser gives."""
    from sources.kolada import read_page

    page1 = fixture_bytes("data_N00945_page1.json")
    mixed = json.dumps({"values": [
        {"kpi": "N2", "municipality": "0180", "period": 2020, "values": [
            {"count": 1, "gender": "T", "status": "", "value": 3, "isdeleted": False},
            {"gender": "K", "value": None, "status": "Privacy"}]},
        {"kpi": "N1", "municipality": "0180", "period": 2021, "values": [
            {"count": 2, "gender": "M", "status": None, "value": 2.5, "isdeleted": None}]},
        {"kpi": "N2", "municipality": "1280", "period": 2020, "values": [
            {"count": 1, "gender": "T", "status": "", "value": 1.25}]}],
        "count": 3}, indent=1).encode()  # pretty-printed, ints and floats, absent fields
    for body in (page1, mixed):
        page, columnar, careful = _careful_and_columnar(body)
        assert page.rows is not None
        assert columnar.rows.equals(careful.rows) and columnar.kpis == careful.kpis
    assert careful.rows["kpi"].to_list() == ["N2", "N2", "N2", "N1"]  # grouped as the careful one
    assert read_page(page1, None, "t", None)[1] == json.loads(page1)["next_url"]


@pytest.mark.parametrize("entry", [
    {"gender": "T", "value": True},                     # Arrow would not make true a number
    {"gender": "T", "status": 5, "value": 1.0},        # nor 5 a text
    {"gender": "T"},                                   # a missing value is not a null one
    {"gender": "T", "value": 1.0, "is_deleted": True},  # Kolada v2's spelling
    {"gender": "X", "value": 1.0},
    {"gender": "T", "value": 1.0, "count": 1.5},
])
def test_an_odd_field_sends_the_page_the_careful_way(entry):
    from sources.kolada import read_page

    body = json.dumps({"values": [
        {"kpi": "N1", "municipality": "0180", "period": 2020, "values": [
            {"count": 1, "gender": "T", "status": "", "value": 1.0, "isdeleted": False}]},
        {"kpi": "N1", "municipality": "1280", "period": 2020, "values": [entry]}]}).encode()
    page, _ = read_page(body, None, "test", lambda raw, _: json.loads(raw))
    assert page.rows is None and len(page.values) == 2
