"""The survey subsystem in Dagster: sensors, partitions, checks, quarantine, the private
store and staging.survey_value, in-process on demo files in a temporary data folder."""

from __future__ import annotations

import os
import time

import dagster as dg
import duckdb
import polars as pl

from pipeline.assets.surveys import (CHECK_NAME, SIZE_CHECK, SURVEY_FILE_KEY, SURVEY_FILES, SurveySettings,
                                     survey_value_job)
from pipeline.resources import Paths, StatisticsApis, default_resources
from pipeline.sensors import survey_inbox_sensor, survey_value_sensor
from pipeline.surveys import run_inbox, survey_definitions
from pipeline.warehouse import publish, read_table
from tests.survey_attack import attack, truth_from_private
from tests.survey_files import codebooks, lupp_rows, write_csv

GROUPS = {"sources", "staging"}


def definitions(data_dir, **settings) -> dg.Definitions:
    resources = default_resources(Paths(data_dir=str(data_dir)), StatisticsApis(mode="demo"))
    resources["survey_settings"] = SurveySettings(**settings)
    return survey_definitions(resources)


def sensor_context(instance, data_dir, cursor=None, **settings):
    return dg.build_sensor_context(instance=instance, cursor=cursor, resources={
        "paths": Paths(data_dir=str(data_dir)), "survey_settings": SurveySettings(**settings)})


def test_definitions_load_and_every_asset_is_fit_for_the_ui(tmp_path):
    defs = definitions(tmp_path / "data")
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name in GROUPS and node.owners == ["team:uppvaxt"] and node.kinds, key
        assert any(ch in (node.description or "") for ch in "åäö"), key
    assert graph.get(SURVEY_FILE_KEY).partitions_def == SURVEY_FILES
    assert defs.resolve_job_def("survey_file_job").partitions_def == SURVEY_FILES
    assert defs.resolve_job_def("survey_value_job") is not None


def test_inbox_sensor_adds_partitions_and_keys_runs_by_change(tmp_path):
    data = tmp_path / "data"
    inbox = data / "inbox" / "surveys"
    write_csv(inbox / "lupp_2023.csv", lupp_rows([("0580", "Åk 9", "Tjej", 12)]))
    write_csv(inbox / "enkat.csv", lupp_rows([("0580", "Åk 9", "Kille", 12)]))
    (inbox / "enkat.csv.codebook").write_text("lupp\n", encoding="utf-8")
    (inbox / "quarantine").mkdir()
    (inbox / "quarantine" / "lupp_old.csv").write_text("x", encoding="utf-8")
    instance = dg.DagsterInstance.ephemeral()

    result = survey_inbox_sensor(sensor_context(instance, data, settle_seconds=0))
    assert sorted(r.partition_key for r in result.run_requests) == ["enkat.csv", "lupp_2023.csv"]
    assert sorted(result.dynamic_partitions_requests[0].partition_keys) == ["enkat.csv", "lupp_2023.csv"]
    keys = {r.partition_key: r.run_key for r in result.run_requests}
    assert keys["enkat.csv"].startswith("enkat.csv:") and ":lupp@" in keys["enkat.csv"]

    instance.add_dynamic_partitions(SURVEY_FILES.name, ["enkat.csv", "lupp_2023.csv"])
    again = survey_inbox_sensor(sensor_context(instance, data, settle_seconds=0))
    assert not again.dynamic_partitions_requests
    assert {r.partition_key: r.run_key for r in again.run_requests} == keys  # the daemon dedups

    write_csv(inbox / "lupp_2023.csv", lupp_rows([("0580", "Åk 9", "Tjej", 13)]))
    changed = survey_inbox_sensor(sensor_context(instance, data, settle_seconds=0))
    new_keys = {r.partition_key: r.run_key for r in changed.run_requests}
    assert new_keys["lupp_2023.csv"] != keys["lupp_2023.csv"]
    assert new_keys["enkat.csv"] == keys["enkat.csv"]

    # A file still being copied (modified a moment ago) waits for the next tick.
    settling = survey_inbox_sensor(sensor_context(instance, data, settle_seconds=3600))
    assert isinstance(settling, dg.SkipReason)
    assert not (data / "warehouse").exists()  # sensors never open the warehouse


def test_everything_on_the_demo_files(tmp_path):
    data = tmp_path / "data"
    defs = definitions(data)
    instance = dg.DagsterInstance.ephemeral()
    run = run_inbox(defs, instance)
    assert sorted(run.files) == ["lupp_2023_demo.csv", "sthlm_2024_demo.sav"]
    assert run.failed == [] and run.survey_value.success
    checks = [e for r in run.files.values() for e in r.get_asset_check_evaluations()]
    assert {(c.check_name, c.passed) for c in checks} == {(CHECK_NAME, True), (SIZE_CHECK, True)}

    values = read_table(data / "warehouse" / "uppvaxt.duckdb", "staging", "survey_value")
    assert values.height > 0
    assert set(values["survey_id"]) == {"sthlm", "lupp"}
    assert set(values["area_type"]) == {"kommun", "lan", "total"}
    assert set(values.filter(pl.col("area_type") == "lan")["area_code"]) == {"01", "05", "13"}
    assert values.filter(pl.col("status") == "ok", pl.col("denominator") < 10).height == 0
    assert values.filter(pl.col("status") == "suppressed").height > 0  # the demo has small cells
    hidden = values.filter(pl.col("status") == "suppressed")
    assert hidden.select(pl.col("numerator", "denominator", "value").null_count().sum()).row(0) \
        == (hidden.height,) * 3
    # The attacker, on the published cells only, recovers nothing (issue 10 item 3).
    cuts = {c for b in codebooks().values() for s in b.scales.values() for c in s.cuts}
    assert attack(values, cuts, truth_from_private(str(data / "private" / "surveys"))) == []

    # Row-level data only under data/private: not in the warehouse, not in the snapshot.
    microdata = sorted(p.name for p in (data / "private" / "surveys" / "microdata").iterdir())
    assert microdata == ["lupp_2023_demo.csv.parquet", "sthlm_2024_demo.sav.parquet"]
    respondents = sum(pl.read_parquet(data / "private" / "surveys" / "microdata" / m).height
                      for m in microdata)
    assert respondents > 5000
    con = duckdb.connect(str(data / "warehouse" / "uppvaxt.duckdb"), read_only=True)
    try:
        columns = con.sql("select table_schema, table_name, column_name from information_schema.columns").fetchall()
    finally:
        con.close()
    assert not [c for c in columns if c[2] in ("respondent_id", "n_flag", "w_flag") or c[2].startswith("score__")]
    # (and the warehouse's build book: which version of each table is there, and from what)
    assert {(s, t) for s, t, _ in columns} == {("staging", "survey_value"), ("meta", "survey_release"),
                                               ("meta", "table_build")}
    releases = read_table(data / "warehouse" / "uppvaxt.duckdb", "meta", "survey_release")
    assert releases.height == 12 and set(releases["change"]) == {"new_wave"}  # 2 surveys × 6 scales
    assert releases["current"].all() and (releases["pinned"] + releases["narrowed"]).sum() == 0
    assert (releases["cells_shown"] < releases["cells"]).all()
    counts = publish(data / "warehouse" / "uppvaxt.duckdb", data / "published" / "uppvaxt.duckdb")
    # Staging is not published; the releases are, with nothing an attacker could use.
    assert [t for t in counts if "survey" in t] == ["meta.survey_release"]
    written = {p.relative_to(data).parts[0] for p in data.rglob("*") if p.is_file()}
    assert written == {"private", "warehouse", "published"}
    # Read files left the inbox for the private store (issue 10 item 8).
    assert sorted(p.name for p in (data / "private" / "surveys" / "raw").iterdir()) == \
        ["lupp_2023_demo.csv", "sthlm_2024_demo.sav"]
    assert not [p for p in (data / "inbox" / "surveys").iterdir() if p.is_file()]

    # Nothing changed: the demo files are not written again, no new runs.
    again = run_inbox(defs, instance)
    assert again.files == {}
    assert not [p for p in (data / "inbox" / "surveys").iterdir() if p.is_file()]


def test_a_bad_file_fails_its_check_and_is_quarantined_while_the_good_one_is_published(tmp_path):
    data = tmp_path / "data"
    inbox = data / "inbox" / "surveys"
    good = lupp_rows([("0580", "Åk 9", "Tjej", 20), ("0580", "Åk 9", "Kille", 20)])
    write_csv(inbox / "lupp_good.csv", good)
    bad = lupp_rows([("0581", "Gy 2", "Tjej", 20)])
    bad[5]["c2b"] = "8"
    write_csv(inbox / "lupp_bad.csv", bad)
    defs = definitions(data)
    instance = dg.DagsterInstance.ephemeral()
    run = run_inbox(defs, instance, demo_files=False)
    assert run.failed == ["lupp_bad.csv"]
    failed = run.files["lupp_bad.csv"]
    evaluation = failed.get_asset_check_evaluations()[0]
    assert (evaluation.check_name, evaluation.passed) == (CHECK_NAME, False)
    assert evaluation.metadata["failure_count"].value == 1
    sample = evaluation.metadata["failure_sample"].value[0]
    assert (sample["file"], sample["row"], sample["column"]) == ("lupp_bad.csv", 7, "c2b")
    assert evaluation.description.startswith("lupp_bad.csv: 1 problem")
    assert "lupp_bad.csv, rad 7, kolumn c2b: koden finns inte" in evaluation.metadata["problems"].value
    assert not failed.get_asset_materialization_events()
    assert (inbox / "quarantine" / "lupp_bad.csv.problems.md").exists()
    assert (data / "private" / "surveys" / "quarantine" / "lupp_bad.csv").exists()
    assert not (data / "private" / "surveys" / "microdata" / "lupp_bad.csv.parquet").exists()
    values = read_table(data / "warehouse" / "uppvaxt.duckdb", "staging", "survey_value")
    assert set(values["source_title"]) == {"LUPP (liknande upplägg), omgång 2023"}
    assert set(values["area_code"]) == {"0580", "05", "ALLA"}


def test_survey_value_is_an_empty_table_of_the_right_schema_without_files(tmp_path):
    data = tmp_path / "data"
    result = definitions(data).resolve_job_def(survey_value_job.name).execute_in_process(
        instance=dg.DagsterInstance.ephemeral())
    assert result.success
    values = read_table(data / "warehouse" / "uppvaxt.duckdb", "staging", "survey_value")
    assert values.height == 0
    assert values.schema["period"] == pl.Int32 and values.schema["value"] == pl.Float64


def test_value_sensor_refreshes_once_per_batch_of_new_files(tmp_path):
    data = tmp_path / "data"
    write_csv(data / "inbox" / "surveys" / "lupp_2023.csv", lupp_rows([("0580", "Åk 9", "Tjej", 12)]))
    defs = definitions(data)
    instance = dg.DagsterInstance.ephemeral()
    context = dg.build_sensor_context(instance=instance)
    assert isinstance(survey_value_sensor(context), dg.SkipReason)
    # the file is read (the inbox sensor's run) and the cells are not yet refreshed
    run_inbox(defs, instance, demo_files=False, refresh=False)
    context = dg.build_sensor_context(instance=instance)
    request = survey_value_sensor(context)
    assert isinstance(request, dg.RunRequest) and request.run_key.startswith("survey_value:")
    again = dg.build_sensor_context(instance=instance, cursor=context.cursor)
    assert isinstance(survey_value_sensor(again), dg.SkipReason)


def test_settle_time_uses_modification_time(tmp_path):
    from sources.surveys.inbox import list_inbox

    path = write_csv(tmp_path / "lupp_x.csv", lupp_rows([("0580", "Åk 9", "Tjej", 1)]))
    assert list_inbox(tmp_path, settle_seconds=60) == []
    old = time.time() - 120
    os.utime(path, (old, old))
    assert [f.path.name for f in list_inbox(tmp_path, settle_seconds=60)] == ["lupp_x.csv"]


def test_no_respondent_id_or_answer_reaches_dagsters_run_history(tmp_path):
    # Issue 10 item 8: search Dagster's own storage (event log, runs) for what must stay private.
    data = tmp_path / "data"
    inbox = data / "inbox" / "surveys"
    good = lupp_rows([("0580", "Åk 9", "Tjej", 20), ("0580", "Åk 9", "Kille", 20)])
    for i, row in enumerate(good):
        row["Respondent"] = f"HEMLIGT-ID-{i:04d}"
    write_csv(inbox / "lupp_good.csv", good)
    bad = lupp_rows([("0581", "Gy 2", "Tjej", 20)], start=100)
    for i, row in enumerate(bad):
        row["Respondent"] = f"HEMLIGT-ID-{100 + i:04d}"
    bad[3]["Respondent"] = bad[2]["Respondent"]
    bad[4]["Kön"] = "Hemligkön"
    bad[5]["c1a"] = "Hemligtsvar"
    write_csv(inbox / "lupp_bad.csv", bad)
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        run = run_inbox(definitions(data), instance, demo_files=False)
        assert run.failed == ["lupp_bad.csv"] and run.survey_value.success
    stored = [p for p in home.rglob("*") if p.is_file()]
    assert stored and any(p.suffix == ".db" for p in stored)
    for path in stored:
        content = path.read_bytes()
        for secret in (b"HEMLIGT-ID", b"Hemligk", b"Hemligtsvar"):
            assert secret not in content, (path, secret)
    report = (inbox / "quarantine" / "lupp_bad.csv.problems.json").read_bytes()
    assert b"HEMLIGT-ID" not in report and b"Hemlig" not in report
