"""The nightly run (issue 9 #7, #8): the schedule asks the sources what changed and builds
only then, fetching only what changed; a night without changes rewrites nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import dagster as dg
import httpx
import polars as pl
import pytest

from pipeline.definitions import make_definitions
from pipeline.resources import Paths, default_resources
from tests.conftest import REPO
from tests.pipeline_helpers import copy_of, digest, failure_messages, faulty_demo, table

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


def nightly(data, apis, instance):
    """What the daemon does at 03:30: evaluate the schedule, run what it asks for."""
    defs = make_definitions(default_resources(Paths(data_dir=str(data)), apis))
    with dg.build_schedule_context(instance=instance, resources=defs.resources) as context:
        tick = defs.resolve_schedule_def("nightly_build").evaluate_tick(context)
    results = [defs.resolve_job_def("build_all").execute_in_process(
        instance=instance, tags=request.tags, raise_on_error=False) for request in tick.run_requests or []]
    return tick, results


def fingerprints(data):
    return (digest(data / "published" / "uppvaxt.duckdb"),
            {p.name: digest(p) for p in sorted((data / "reports").glob("*.html"))})


def test_a_night_without_changes_asks_a_few_questions_and_builds_nothing(demo_build, tmp_path):
    data = copy_of(demo_build[0], tmp_path)
    before = fingerprints(data)
    requests: list[httpx.Request] = []
    tick, results = nightly(data, faulty_demo(requests=requests), demo_build[2])
    assert results == [] and "Inget har ändrats" in tick.skip_message
    asked = sorted({(r.method, r.url.path.split("/")[2 if "/v3/" in r.url.path else 3]) for r in requests})
    assert asked == [("GET", "data"), ("GET", "kpi"), ("GET", "tables")]
    data_requests = [r for r in requests if "/data/" in r.url.path]
    assert data_requests and all(r.url.params["from_date"] == date.today().isoformat() for r in data_requests)
    assert len(requests) <= 8
    assert fingerprints(data) == before


def test_a_night_with_one_revised_kpi_fetches_only_it(demo_build, tmp_path):
    data = copy_of(demo_build[0], tmp_path)
    published = data / "published" / "uppvaxt.duckdb"
    old = table(published, "select * from marts.fact_indicator where area_type = 'kommun'")
    requests: list[httpx.Request] = []
    apis = faulty_demo(requests=requests, world={"kpi_modified": {"N15428": date.today().isoformat()},
                                                 "kpi_scale": {"N15428": 0.98}})
    tick, [result] = nightly(data, apis, demo_build[2])
    assert result.success, failure_messages(result)
    assert result.dagster_run.tags["uppvaxt/refresh"] == "incremental"
    assert "Kolada N15428: ändrat hos Kolada" in result.dagster_run.tags["uppvaxt/changes"]
    full = [r.url.path for r in requests if "/data/" in r.url.path and "from_date" not in r.url.params]
    assert full == ["/v3/data/kpi/N15428/year/" + ",".join(str(y) for y in range(2015, 2026))] * 1
    assert not [r for r in requests if r.method == "POST"]  # SCB unchanged: population not fetched
    new = table(published, "select * from marts.fact_indicator where area_type = 'kommun'")
    pair = lambda f, kpi: f.filter(pl.col("indicator_id") == kpi, pl.col("status") == "ok",
                                   pl.col("breakdown") == "all").sort("area_code", "period", "sex")
    ratio = pair(new, "N15428")["value"] / pair(old, "N15428")["value"]
    assert ratio.median() == pytest.approx(0.98, abs=0.002)
    assert pair(new, "N15508")["value"].equals(pair(old, "N15508")["value"])
    vintage = table(published, "select state, count(*) n from meta.kolada_vintage group by 1 order by 1")
    assert vintage.rows() == [("fresh", 1), ("kept", 41)]  # 31 for indicators and peers, 10 cost KPIs


def test_python_m_pipeline_nightly_rewrites_nothing_and_names_a_quarantined_file(demo_build, tmp_path):
    """The command line: the inbox (as its sensors would), then the schedule's question. A
    survey file that arrived broken is quarantined and named; nothing new could be
    published, so the exit code says so; nothing is rewritten."""
    data = copy_of(demo_build[0], tmp_path)
    before = fingerprints(data)
    inbox = data / "inbox" / "surveys"
    lines = (data / "private" / "surveys" / "raw" / "lupp_2023_demo.csv").read_bytes().splitlines(keepends=True)
    (inbox / "lupp_2024_broken.csv").write_bytes(b"".join(lines[:1] + lines[1:3] * 2))
    env = {**os.environ, "UPPVAXT_DATA_DIR": str(data), "UPPVAXT_SOURCE": "demo"}
    env.pop("DAGSTER_HOME", None)
    done = subprocess.run([sys.executable, "-m", "pipeline", "nightly"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "Inget har ändrats hos Kolada eller SCB" in done.stdout, out
    assert "Enkätfil i karantän: lupp_2024_broken.csv (rapport: " in done.stdout, out
    assert "Traceback" not in out and "17 checks passed" not in out
    assert fingerprints(data) == before
