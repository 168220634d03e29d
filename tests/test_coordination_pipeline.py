"""The coordination layer in the pipeline: demo registers through the readers, the marts in
the published snapshot, a broken register set aside without changing what is published,
and the folder sensor."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipeline.assets.coordination import COORDINATION_MARTS
from pipeline.assets.registers import RegisterSettings, register_folder_sensor
from pipeline.definitions import make_definitions
from pipeline.resources import Paths, StatisticsApis, default_resources
from sources.demo.world import DEMO_LABEL
from sources.registers.layouts import BEREDSKAP

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def definitions(data: Path) -> dg.Definitions:
    return make_definitions(default_resources(Paths(data_dir=str(data)), StatisticsApis(mode="demo")))


def published(data: Path, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(data / "published" / "uppvaxt.duckdb"), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


# Session-wide: a worker may interleave modules, which would build a module fixture twice.
@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """Everything on demo data (surveys left out: not needed here). The site and downloads
    are made with the database: a publication is one step."""
    data = tmp_path_factory.mktemp("coord") / "data"
    defs = definitions(data)
    graph = defs.resolve_asset_graph()
    selection = dg.AssetSelection.all() - dg.AssetSelection.assets(
        dg.AssetKey(["private", "survey_file"]),
        dg.AssetKey(["inbox", "survey_demo_files"]))
    job = defs.resolve_job_def("build_all").get_subset(asset_selection=set(selection.resolve(graph)))
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False,
                                    run_config=QUIET)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert all(c.passed for c in result.get_asset_check_evaluations())
    return data


def test_coordination_marts_are_published_and_documented(built):
    tables = published(built, "SELECT schema_name, table_name, comment FROM duckdb_tables()")
    comments = {f"{s}.{t}": c for s, t, c in tables.iter_rows()}
    for table in [f"marts.{t}" for t in COORDINATION_MARTS] + ["meta.register_file"]:
        assert comments[table].startswith(DEMO_LABEL), table
        assert published(built, f"SELECT count(*) AS n FROM {table}")["n"][0] > 0, table
    undocumented = published(built, """
        SELECT table_name, column_name FROM duckdb_columns()
        WHERE schema_name IN ('marts', 'meta') AND comment IS NULL AND table_name <> 'publication'""")
    assert undocumented.height == 0, undocumented.to_dicts()
    files = published(built, "SELECT file, status FROM meta.register_file ORDER BY file")
    assert files.rows() == [("ansokningar_demo.csv", "demo"), ("beredskap_demo.csv", "demo"),
                            ("mal_demo.xlsx", "demo"), ("stod_demo.xlsx", "demo")]
    # Contact persons are never published.
    columns = published(built, "SELECT column_name FROM duckdb_columns()")["column_name"].to_list()
    assert not {"contact", "email"} & set(columns)


def test_need_index_reads_sensibly_for_a_county(built):
    need = published(built, "SELECT * FROM marts.need_index WHERE area_type = 'kommun'")
    assert need.height == 290 * 5
    assert need.group_by("factor").len().sort("factor")["len"].to_list() == [290] * 5
    ok = need.filter(pl.col("status") == "ok")
    assert ((ok["rank_lower"] <= ok["rank_median"]) & (ok["rank_median"] <= ok["rank_upper"])).all()
    # Exactly ⌈n/5⌉ kommuner are in the top fifth in every draw: the probabilities add up to it.
    for factor, frame in ok.group_by("factor"):
        assert frame["p_top_fifth"].sum() == pytest.approx(math.ceil(0.2 * frame.height)), factor
    ostergotland = published(built, "SELECT * FROM marts.need_index WHERE lan_code = '05' AND factor = 'overall'")
    assert sorted(ostergotland["area_type"].unique().to_list()) == ["kommun", "lan", "subregion"]
    assert ostergotland.filter(pl.col("area_type") == "kommun").height == 13
    inputs = published(built, "SELECT * FROM marts.need_index_input WHERE status <> 'ok'")
    assert inputs["value"].null_count() == inputs.height  # missing and suppressed never become 0


def test_registers_reach_their_marts(built):
    stages = published(built, "SELECT * FROM marts.readiness_stage")
    assert stages.height >= 40 and (stages["stage"] == stages["score"].floor()).all()
    assert stages.filter(pl.col("previous_stage").is_not_null()).height >= 1
    assert stages.filter(pl.col("warning").str.contains("bara 3 intervjuer")).height == 1
    classes = set(published(built, "SELECT DISTINCT class FROM marts.support_need")["class"])
    assert {"high_need_no_support", "high_need_support", "uncertain", "lower_need_some_support"} <= classes
    goals = published(built, "SELECT * FROM marts.goal_progress WHERE is_latest")
    assert {"cannot_follow", "achieved"} <= set(goals["status"])
    selection = published(built, "SELECT * FROM marts.selection")
    assert selection["call_id"].n_unique() == 21
    assert selection["reasons"].str.ends_with("beslutet fattas av handläggarna.").all()


def test_issue_14_done_when_on_the_demo_build(built):
    """No county call ends with nobody proposed or referred; every "uppnått" clears its target;
    no support year after the build's; need in the county with rankability; contributions."""
    calls = published(built, """
        SELECT call_id, count(*) FILTER (WHERE proposal IN ('propose', 'qualitative_review')) AS n
        FROM marts.selection GROUP BY call_id""")
    assert calls.height == 21 and (calls["n"] >= 1).all(), calls.filter(pl.col("n") == 0).to_dicts()
    achieved = published(built, "SELECT * FROM marts.goal_progress WHERE status = 'achieved'")
    clears = ((achieved["direction"] == "increase") & (achieved["lower_95"] >= achieved["target_value"])) | \
             ((achieved["direction"] == "decrease") & (achieved["upper_95"] <= achieved["target_value"]))
    assert clears.all()
    fetched = published(built, "SELECT max(fetched_at) AS f FROM marts.fact_indicator")["f"][0]
    years = published(built, "SELECT max(period) AS last, min(period) FILTER (WHERE shown) AS shown, "
                             "max(period) FILTER (WHERE shown) AS shown_last FROM marts.support_need")
    assert years["last"][0] <= int(fetched[:4]) and years["shown"][0] == years["shown_last"][0] == int(fetched[:4])
    need = published(built, "SELECT * FROM marts.need_index WHERE area_type = 'kommun' AND status = 'ok'")
    for column in ("rank_lan", "rank_lan_lower", "rank_lan_upper", "rankability", "n_ranked_lan"):
        assert need[column].null_count() == 0, column
    big = need.filter(pl.col("n_ranked_lan") >= 3)
    assert big["p_top_lan"].null_count() == 0 and big["rankability_lan"].null_count() == 0
    # Exactly ⌈n/3⌉ kommuner of a county are in its highest-need third in every draw.
    for (lan, factor), frame in big.group_by("lan_code", "factor"):
        assert frame["p_top_lan"].sum() == pytest.approx(math.ceil(frame.height / 3 - 1e-9)), (lan, factor)
    parts = published(built, "SELECT * FROM marts.need_contribution")
    assert parts["area_code"].n_unique() > 250
    sums = parts.group_by("area_code", "factor").agg(pl.col("contribution").sum(), pl.col("score_z").first())
    assert ((sums["contribution"] - sums["score_z"]).abs() < 1e-9).all()


def test_a_broken_register_is_set_aside_and_nothing_published_changes(built, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(built, data)
    before = published(data, "SELECT * FROM marts.support_need ORDER BY ALL")
    readiness_before = published(data, "SELECT * FROM marts.readiness_stage ORDER BY ALL")
    folder = data / "registers"
    # The county re-saves its support register with a bad kommun code and an end before start.
    frame = pl.read_excel(folder / "stod_demo.xlsx", infer_schema_length=0)
    broken = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("9999")).otherwise("Kommunkod").alias("Kommunkod"),
        pl.when(pl.int_range(pl.len()) == 5).then(pl.lit("2020-01-01")).otherwise("Slutdatum").alias("Slutdatum"))
    broken.write_excel(folder / "stod_demo.xlsx")
    # A new readiness file in Windows-1252 with semicolons and a score of 12.
    cells = ["LKP-1", "0580", "2025-05-01", "Våld bland unga", "", "1", "Skola"] + ["4,5"] * 17 + ["12"]
    (folder / "beredskap_linkoping.csv").write_bytes(
        (";".join(BEREDSKAP.headers) + "\r\n" + ";".join(cells) + "\r\n").encode("cp1252"))
    result = definitions(data).resolve_job_def("register_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, run_config=QUIET)
    assert result.success  # the file checks do not block: the marts use the last accepted data
    failed = {c.check_name: c for c in result.get_asset_check_evaluations() if not c.passed}
    assert set(failed) == {"register_stod_files", "register_beredskap_files"}
    assert "kommunkoden 9999 finns inte" in failed["register_stod_files"].description
    assert "rad 5, kolumn Kommunkod" in failed["register_stod_files"].description
    report = (folder / "quarantine" / "beredskap_linkoping.csv.problems.md").read_text(encoding="utf-8")
    assert "beredskap_linkoping.csv, rad 2, kolumn F konsensus: poängen 12 ligger utanför skalan 1–9" in report
    assert not (folder / "stod_demo.xlsx").exists()
    after = published(data, "SELECT * FROM marts.support_need ORDER BY ALL")
    assert after.equals(before)
    assert published(data, "SELECT * FROM marts.readiness_stage ORDER BY ALL").equals(readiness_before)
    status = dict(published(data, "SELECT file, status FROM meta.register_file").iter_rows())
    assert status["stod_demo.xlsx"] == "previous_version"
    assert status["beredskap_linkoping.csv"] == "quarantined"


def test_the_folder_sensor_asks_for_a_run_when_a_file_changes(tmp_path):
    folder = tmp_path / "registers"
    folder.mkdir()
    resources = {"paths": Paths(data_dir=str(tmp_path)),
                 "register_settings": RegisterSettings(folder_dir=str(folder), settle_seconds=0)}
    instance = dg.DagsterInstance.ephemeral()
    context = dg.build_sensor_context(instance=instance, resources=resources)
    assert isinstance(register_folder_sensor(context), dg.SkipReason)  # empty folder, first tick
    (folder / "stod_2025.csv").write_text("Aktör\n", encoding="utf-8")
    context = dg.build_sensor_context(instance=instance, resources=resources, cursor=context.cursor)
    request = register_folder_sensor(context)
    assert isinstance(request, dg.RunRequest) and request.run_key.startswith("registers:")
    context = dg.build_sensor_context(instance=instance, resources=resources, cursor=context.cursor)
    assert isinstance(register_folder_sensor(context), dg.SkipReason)  # nothing changed
    waiting = {**resources, "register_settings": RegisterSettings(folder_dir=str(folder), settle_seconds=3600)}
    (folder / "mal.csv").write_text("Kommunkod\n", encoding="utf-8")
    skip = register_folder_sensor(dg.build_sensor_context(instance=instance, resources=waiting))
    assert isinstance(skip, dg.SkipReason) and "mal.csv" in skip.skip_message
