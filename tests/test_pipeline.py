"""The whole pipeline in-process on demo data, and what happens when input is bad.

One full build is shared by the module; each bad-input scenario runs on a copy of it and
checks that its branch fails with a clear message while the published snapshot and the
reports stay exactly as they were.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipeline.surveys import run_inbox
from sources.demo.world import DEMO_LABEL
from tests.pipeline_helpers import (catalog_copy, copy_of, definitions, digest, edit_indicators,
                                    failure_messages, run)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


# Session-wide: a worker may interleave modules, which would build a module fixture twice.
@pytest.fixture(scope="session")
def built(demo_build):
    return demo_build


def test_everything_materialises_and_publishes(built):
    data, result, _ = built
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"raw/kolada_value", "raw/scb_population", "marts/fact_indicator",
            "reports/site", "reports/downloads", "reports/published_snapshot"} <= materialised
    # every asset of the job, whoever added it (a count here went stale with each new mart)
    job = definitions(data).resolve_job_def("build_all")
    assert materialised == {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    checks = result.get_asset_check_evaluations()
    assert [c.check_name for c in checks if not c.passed] == []
    # every check of the job ran (a table asset without its schema check would be missed here)
    assert ({c.check_name for c in checks}
            == {k.name for k in job.asset_layer.asset_graph.asset_check_keys})
    assert all(f"{k.path[-1]}_schema" in {c.check_name for c in checks}
               for k in job.asset_layer.executable_asset_keys if k.path[0] in ("marts", "staging"))
    site = data / "reports"
    reports = sorted(site.glob("lan-*.html"))
    profiles = sorted(site.glob("kommun-*.html"))
    assert len(reports) == 21 and len(profiles) == 290 and (site / "index.html").exists()
    workbooks = [p.name for p in (site / "nedladdning").glob("*.xlsx")]
    assert len([n for n in workbooks if not n.startswith("urval-")]) == 21 + 290
    assert len([n for n in workbooks if n.startswith("urval-")]) == 21  # a memo per demo call
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


# A malformed answer, an unknown municipality code and an unknown KPI now cost only their own
# series: tests/test_bad_night.py runs them (and the other source faults) in one build.


def test_failed_mart_check_blocks_publishing(built, tmp_path, monkeypatch):
    data = copy_of(built[0], tmp_path)
    published, report = data / "published" / "uppvaxt.duckdb", data / "reports" / "index.html"
    before = digest(published), digest(report)
    import pipeline.assets.marts as marts
    real = marts.build_facts

    def zero_for_hidden(*args, **kwargs):
        facts = real(*args, **kwargs)
        return facts.with_columns(value=pl.when(pl.col("status") == "suppressed").then(0.0)
                                  .otherwise("value"))

    monkeypatch.setattr(marts, "build_facts", zero_for_hidden)
    result = run(data, selection=dg.AssetSelection.assets(["marts", "fact_indicator"]).downstream())
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
    data = copy_of(built[0], tmp_path)
    published = data / "published" / "uppvaxt.duckdb"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(published)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first_run = reader.stdout.readline().strip()
        assert int(reader.stdout.readline()) > 100_000
        # A changed catalogue is a change: everything is rebuilt with it (a partial rebuild
        # would mix two catalogues and is refused), and the snapshot is swapped in.
        renamed = catalog_copy(tmp_path, lambda d: edit_indicators(
            d, lambda entries: [dict(e, note="Ändrad anteckning") if e["id"] == "N15428" else e
                                for e in entries]))
        result = run(data, renamed)
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
    data = copy_of(built[0], tmp_path)
    published, report = data / "published" / "uppvaxt.duckdb", data / "reports" / "index.html"
    before = digest(published), digest(report)
    inbox = data / "inbox" / "surveys"
    lines = (data / "private" / "surveys" / "raw" / "lupp_2023_demo.csv").read_bytes().splitlines(keepends=True)
    (inbox / "lupp_2024_broken.csv").write_bytes(b"".join(lines[:1] + lines[1:3] * 2))  # same ids twice
    # the same Dagster instance: the files read before are known and not read again
    result = run_inbox(definitions(data), built[2], demo_files=False)
    assert list(result.files) == ["lupp_2024_broken.csv"] and result.failed == ["lupp_2024_broken.csv"]
    assert result.survey_value is None
    assert (data / "private" / "surveys" / "quarantine" / "lupp_2024_broken.csv").exists()
    assert (inbox / "quarantine" / "lupp_2024_broken.csv.problems.md").exists()
    assert (digest(published), digest(report)) == before


def test_facts_a_few_indicators_at_a_time_are_the_same_table(built):
    """build_facts works one group of indicators at a time (memory); the table is the same."""
    from pipeline.warehouse import read_table
    from transforms.aggregate import aggregate_areas
    from transforms.facts import build_facts

    warehouse = built[0] / "warehouse" / "uppvaxt.duckdb"
    t = {name: read_table(warehouse, schema, name) for schema, name in [
        ("staging", "kommun_value"), ("staging", "area_membership"), ("raw", "indicator_catalog"),
        ("staging", "population"), ("marts", "area"), ("marts", "peer_group"),
        ("staging", "survey_value")]}
    aggregates = aggregate_areas(t["kommun_value"], t["area_membership"], t["indicator_catalog"],
                                 t["population"])
    args = (t["kommun_value"], aggregates, t["indicator_catalog"], t["area"], "run",
            t["peer_group"], t["survey_value"])
    whole, parts = build_facts(*args, chunk=10_000), build_facts(*args, chunk=7)
    assert whole.height > 300_000 and parts.equals(whole)
    # The asset aggregates, builds, validates and writes each group on its own (table_asset's
    # `chunked`): the stored table is the one built whole, row for row and type for type.
    from transforms.data_quality import flag_implausible, stale_indicators

    stale = stale_indicators(read_table(warehouse, "meta", "kolada_vintage"), t["indicator_catalog"])
    whole = flag_implausible(build_facts(*args, stale=stale, chunk=10_000), t["indicator_catalog"])
    stored = read_table(warehouse, "marts", "fact_indicator")
    assert stored.drop("run_id").equals(whole.drop("run_id"))
    assert stored.schema == whole.schema
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
