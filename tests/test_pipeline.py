"""The whole pipeline in-process on demo data, and what happens when input is bad.

One full build is shared by the module; each bad-input scenario runs on a copy of it and
checks that its branch fails with a clear message while the published snapshot and the
reports stay exactly as they were.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import duckdb
import httpx
import polars as pl
import pytest
import yaml

from pipeline.definitions import make_definitions
from pipeline.resources import Paths, StatisticsApis, default_resources
from pipeline.surveys import run_inbox
from sources.demo.apis import demo_transport
from sources.demo.world import DEMO_LABEL
from tests.conftest import CATALOG

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


def definitions(data_dir: Path, catalog_dir: Path = CATALOG,
                apis: StatisticsApis | None = None) -> dg.Definitions:
    resources = default_resources(Paths(data_dir=str(data_dir), catalog_dir=str(catalog_dir)),
                                  apis or StatisticsApis(mode="demo"))
    return make_definitions(resources)


def run(data_dir: Path, catalog_dir: Path = CATALOG, apis: StatisticsApis | None = None,
        selection: dg.AssetSelection | None = None) -> dg.ExecuteInProcessResult:
    defs = definitions(data_dir, catalog_dir, apis)
    job = defs.resolve_job_def("build_all")
    if selection is not None:
        job = job.get_subset(asset_selection=set(selection.resolve(defs.resolve_asset_graph())))
    return job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """What `make run` does: the demo survey waves through the inbox, then everything."""
    data = tmp_path_factory.mktemp("build") / "data"
    instance = dg.DagsterInstance.ephemeral()
    inbox = run_inbox(definitions(data), instance, refresh=False)
    assert sorted(inbox.files) == ["lupp_2023_demo.csv", "sthlm_2024_demo.sav"] and not inbox.failed
    result = run(data)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return data, result, instance


def copy_of(built, tmp_path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(built[0], data)
    return data


def fast_catalog(tmp_path, change=None) -> Path:
    """A catalogue copy with the Kolada rate limit lifted (the demo service has no limit)."""
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG, target)
    settings = yaml.safe_load((target / "sources.yaml").read_text(encoding="utf-8"))
    settings["kolada"]["max_calls"] = 1000
    (target / "sources.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    if change:
        change(target)
    return target


def failure_messages(result) -> str:
    return "\n".join(str(e.event_specific_data.error) if getattr(e.event_specific_data, "error", None)
                     else (e.message or "") for e in result.all_events if e.is_failure)


def test_everything_materialises_and_publishes(built):
    data, result, _ = built
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"raw/kolada_value", "raw/scb_population", "marts/fact_indicator",
            "reports/site", "reports/downloads", "reports/published_snapshot"} <= materialised
    assert len(materialised) == 35  # 21 + the coordination layer's 14
    checks = result.get_asset_check_evaluations()
    assert len(checks) == 35 and all(c.passed for c in checks)  # 18 + 17 coordination checks
    site = data / "reports"
    reports = sorted(site.glob("lan-*.html"))
    profiles = sorted(site.glob("kommun-*.html"))
    assert len(reports) == 21 and len(profiles) == 290 and (site / "index.html").exists()
    assert len(list((site / "nedladdning").glob("*.xlsx"))) == 21 + 290
    assert DEMO_LABEL in reports[0].read_text(encoding="utf-8")
    # the size budgets of the issue, on the real demo build
    assert max(p.stat().st_size for p in reports) <= 1_500_000
    assert max(p.stat().st_size for p in profiles) <= 1_000_000
    watch = (site / "lan-05-ostergotlands-lan.html").read_text(encoding="utf-8").split('id="bevaka"')[1]
    assert "kommun-0563-valdemarsvik.html" in watch.split("</section>")[0]


def test_published_snapshot_is_documented_and_labelled(built):
    con = duckdb.connect(str(built[0] / "published" / "uppvaxt.duckdb"), read_only=True)
    try:
        tables = dict(con.sql("select schema_name || '.' || table_name, comment from duckdb_tables()").fetchall())
        assert {"marts.fact_indicator", "marts.indicator", "marts.area", "meta.publication",
                "meta.raw_response"} <= set(tables)
        assert not any(t.startswith(("raw.", "staging.")) for t in tables)
        assert tables["marts.fact_indicator"].startswith(DEMO_LABEL)
        undocumented = con.sql("select column_name from duckdb_columns() where table_name = "
                               "'fact_indicator' and comment is null").fetchall()
        assert undocumented == []
        assert con.sql("select data_label from meta.publication").fetchall() == [(DEMO_LABEL,)]
        facts = con.sql("select * from marts.fact_indicator").pl()
    finally:
        con.close()
    assert facts.filter(pl.col("area_type") == "kommun")["area_code"].n_unique() == 290
    assert facts.filter(pl.col("area_type") == "lan")["area_code"].n_unique() == 21
    assert facts["period"].n_unique() >= 10
    hidden = facts.filter(pl.col("status").is_in(["suppressed", "missing"]))
    assert hidden.height > 0 and hidden["value"].null_count() == hidden.height
    assert hidden["status_reason"].null_count() == 0


def test_riket_is_sum_of_numerators_over_sum_of_denominators(built):
    con = duckdb.connect(str(built[0] / "warehouse" / "uppvaxt.duckdb"))
    try:
        facts = con.sql("select * from marts.fact_indicator where indicator_id = 'N02901' "
                        "and sex = 'T'").pl()
        kolada = con.sql("select period, value from raw.kolada_value where kpi = 'N02901' and "
                         "municipality = '0000' and gender = 'T'").pl()
    finally:
        con.close()
    kommun = facts.filter(pl.col("area_type") == "kommun", pl.col("status") == "ok")
    expected = kommun.group_by("period").agg(
        expected=pl.col("numerator").sum() / pl.col("denominator").sum() * 100)
    riket = facts.filter(pl.col("area_type") == "riket").join(expected, on="period")
    assert (riket["value"] - riket["expected"]).abs().max() < 1e-9
    # and it agrees with the source's own national figure within rounding and suppression
    both = riket.join(kolada.rename({"value": "source"}), on="period")
    assert (both["value"] - both["source"]).abs().max() < 0.15


def test_malformed_api_page_fails_its_branch_and_keeps_the_snapshot(built, tmp_path):
    data = copy_of(built, tmp_path)
    published, report = data / "published" / "uppvaxt.duckdb", data / "reports" / "index.html"
    before = digest(published), digest(report)

    class BrokenPage(StatisticsApis):
        def _http(self, demo_world):
            inner = demo_transport(demo_world())

            def handler(request):
                if "/data/kpi/" in request.url.path and request.url.params.get("page") == "3":
                    return httpx.Response(200, json={"values": "oops", "count": 1})
                return inner.handle_request(request)

            return httpx.Client(transport=httpx.MockTransport(handler))

    result = run(data, fast_catalog(tmp_path), BrokenPage(mode="demo"),
                 dg.AssetSelection.assets(["raw", "kolada_value"]).downstream())
    assert not result.success
    message = failure_messages(result)
    assert "expected an object with a 'values' list" in message
    assert "page=3" in message and "/data/kpi/" in message
    assert (digest(published), digest(report)) == before


def test_unknown_municipality_code_is_named(built, tmp_path):
    data = copy_of(built, tmp_path)
    before = digest(data / "published" / "uppvaxt.duckdb")

    class StrangeCode(StatisticsApis):
        def _http(self, demo_world):
            inner = demo_transport(demo_world())

            def handler(request):
                response = inner.handle_request(request)
                if "/data/kpi/" in request.url.path and request.url.params.get("page") == "2":
                    doc = response.json()
                    doc["values"][5]["municipality"] = "0199"
                    return httpx.Response(200, json=doc)
                return response

            return httpx.Client(transport=httpx.MockTransport(handler))

    result = run(data, fast_catalog(tmp_path), StrangeCode(mode="demo"),
                 dg.AssetSelection.assets(["raw", "kolada_value"]).downstream())
    assert not result.success
    message = failure_messages(result)
    assert "values[5]: unknown municipality code '0199'" in message and "page=2" in message
    assert digest(data / "published" / "uppvaxt.duckdb") == before


def test_catalogue_entry_with_unknown_kpi_is_named(built, tmp_path):
    data = copy_of(built, tmp_path)
    before = digest(data / "published" / "uppvaxt.duckdb")

    def add_unknown(catalog_dir: Path):
        path = catalog_dir / "indicators.yaml"
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        extra = dict(doc["indicators"][0], id="N99999", source_id="N99999")
        doc["indicators"].append(extra)
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")

    result = run(data, fast_catalog(tmp_path, add_unknown),
                 selection=dg.AssetSelection.assets(["raw", "indicator_catalog"]).downstream())
    assert not result.success
    message = failure_messages(result)
    assert "Kolada does not know the KPI of catalogue entry: N99999 (source_id N99999)" in message
    assert "indicators.yaml" in message
    assert digest(data / "published" / "uppvaxt.duckdb") == before


def test_failed_mart_check_blocks_publishing(built, tmp_path, monkeypatch):
    data = copy_of(built, tmp_path)
    published, report = data / "published" / "uppvaxt.duckdb", data / "reports" / "index.html"
    before = digest(published), digest(report)
    import pipeline.assets.marts as marts
    real = marts.build_facts

    def zero_for_hidden(*args, **kwargs):
        facts = real(*args, **kwargs)
        return facts.with_columns(value=pl.when(pl.col("status") == "suppressed").then(0.0)
                                  .otherwise("value"))

    monkeypatch.setattr(marts, "build_facts", zero_for_hidden)
    result = run(data, fast_catalog(tmp_path),
                 selection=dg.AssetSelection.assets(["marts", "fact_indicator"]).downstream())
    assert not result.success
    [check] = result.get_asset_check_evaluations()
    assert not check.passed and check.check_name == "fact_indicator_schema"
    assert check.metadata["failure_count"].value > 0
    sample = check.metadata["failure_sample"].value
    assert sample and any("missing_is_never_zero" in s["check"] for s in sample)
    assert "missing_is_never_zero" in failure_messages(result)
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert not materialised & {"marts/fact_indicator", "reports/published_snapshot",
                               "reports/site"}
    assert (digest(published), digest(report)) == before
    con = duckdb.connect(str(data / "warehouse" / "uppvaxt.duckdb"))
    try:  # the bad frame never reached the warehouse either
        zeros = con.sql("select count(*) from marts.fact_indicator where status = 'suppressed' "
                        "and value = 0").fetchall()[0][0]
    finally:
        con.close()
    assert zeros == 0


READER = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print(con.sql("select run_id from meta.publication").fetchall()[0][0], flush=True)
    print(con.sql("select count(*) from marts.fact_indicator").fetchall()[0][0], flush=True)
    sys.stdin.readline()
    print(con.sql("select run_id from meta.publication").fetchall()[0][0], flush=True)
""")


def test_second_run_publishes_while_an_analyst_holds_the_snapshot(built, tmp_path):
    data = copy_of(built, tmp_path)
    published = data / "published" / "uppvaxt.duckdb"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(published)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first_run = reader.stdout.readline().strip()
        assert int(reader.stdout.readline()) > 100_000
        result = run(data, fast_catalog(tmp_path), selection=dg.AssetSelection.assets(
            ["marts", "fact_indicator"]).downstream())
        assert result.success
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == first_run
    finally:
        reader.communicate(timeout=60)
    con = duckdb.connect(str(published), read_only=True)
    try:
        assert con.sql("select run_id from meta.publication").fetchall()[0][0] == result.run_id
    finally:
        con.close()


def test_survey_cells_reach_the_fact_table_but_no_pupil_does(built):
    data = built[0]
    con = duckdb.connect(str(data / "published" / "uppvaxt.duckdb"), read_only=True)
    try:
        facts = con.sql("select * from marts.fact_indicator where source_id like 'survey:%'").pl()
        indicators = con.sql("select indicator_id, source from marts.indicator").pl()
        columns = [r[0] for r in con.sql("select column_name from duckdb_columns()").fetchall()]
        biggest = con.sql("select max(estimated_size) from duckdb_tables()").fetchall()[0][0]
    finally:
        con.close()
    assert set(facts["area_type"]) == {"kommun", "lan", "total"}
    assert {"ak9", "gy2", "all"} <= set(facts["breakdown"]) and set(facts["sex"]) == {"T", "K", "M"}
    assert facts.filter(pl.col("status") == "ok", pl.col("denominator") < 10).is_empty()
    hidden = facts.filter(pl.col("status") == "suppressed")
    assert hidden.height > 0 and hidden["denominator"].null_count() == hidden.height
    ok = facts.filter(pl.col("status") == "ok")
    assert ok["ci_method"].unique().to_list() == ["wilson"]
    kommun = ok.filter(pl.col("area_type") == "kommun")
    assert kommun["compared_to_lan"].is_not_null().all() and kommun["compared_to_riket"].is_not_null().all()
    assert indicators.filter(pl.col("source") == "survey").height == facts["indicator_id"].n_unique()
    # nothing row-level: no respondent or item columns, and no table near the size of the data
    # (survey scale scores are `score__<scale>`; a mart's aggregate `score` column is not row-level)
    assert not [c for c in columns if "respondent" in c or c.startswith(("score__", "f54", "f83", "b7"))]
    assert biggest < 1_000_000
    stockholm = (data / "reports" / "lan-01-stockholms-lan.html").read_text(encoding="utf-8")
    profile = next((data / "reports").glob("kommun-0114-*.html")).read_text(encoding="utf-8")
    assert "Elevenkäter per årskurs och kön" in profile and "Åk 9, flickor" in profile
    assert "för elevenkäter alla svarande i enkäten" in stockholm
    assert "respondent" not in stockholm.lower() and "respondent" not in profile.lower()


def test_a_bad_survey_file_is_quarantined_and_nothing_published_changes(built, tmp_path):
    data = copy_of(built, tmp_path)
    published, report = data / "published" / "uppvaxt.duckdb", data / "reports" / "index.html"
    before = digest(published), digest(report)
    inbox = data / "inbox" / "surveys"
    lines = (data / "private" / "surveys" / "raw" / "lupp_2023_demo.csv").read_bytes().splitlines(keepends=True)
    (inbox / "lupp_2024_broken.csv").write_bytes(b"".join(lines[:1] + lines[1:3] * 2))  # same ids twice
    # the same Dagster instance: the files read before are known and not read again
    result = run_inbox(definitions(data, fast_catalog(tmp_path)), built[2], demo_files=False)
    assert list(result.files) == ["lupp_2024_broken.csv"] and result.failed == ["lupp_2024_broken.csv"]
    assert result.survey_value is None
    assert (data / "private" / "surveys" / "quarantine" / "lupp_2024_broken.csv").exists()
    assert (inbox / "quarantine" / "lupp_2024_broken.csv.problems.md").exists()
    assert (digest(published), digest(report)) == before


def test_sql_door_on_the_demo_build(built):
    """Views, labels and comments of the published demo build (tests/test_sql_door.py)."""
    from tests.test_sql_door import (assert_demo_views_answer, assert_every_code_labelled,
                                     assert_views_documented, assert_views_open_in_cli)

    published = built[0] / "published" / "uppvaxt.duckdb"
    assert_every_code_labelled(published)
    assert_views_documented(published)
    assert_demo_views_answer(published)
    assert_views_open_in_cli(published)


@pytest.mark.browser
def test_a_demo_profile_prints_on_at_most_four_a4_pages(built):
    """The print budget on a full profile (every indicator, surveys, K/M), not a small fixture."""
    from tests.test_report_browser import FLAGS, chromium, pdf_pages

    sync_api = pytest.importorskip("playwright.sync_api")
    executable = chromium()
    profile = next((built[0] / "reports").glob("kommun-0114-*.html"))  # surveyed: the longest
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=FLAGS)
        try:
            page = browser.new_page()
            page.goto(profile.as_uri())
            assert 1 <= pdf_pages(page.pdf(format="A4", print_background=True)) <= 4
        finally:
            browser.close()
