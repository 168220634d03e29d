"""Nights as a county runs them (issue 15 #2, #3): `python -m pipeline` in live mode against
the loopback stand-in, with KPIs Kolada has no values for and SCB a year behind. Two nights
without changes exit 0 and rewrite nothing; a KPI that gets values is taken in; a changed KPI
rewrites only the pages and downloads that show it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from pipeline.nightly import probe
from pipeline.runs import PID_TAG, STARTED_TAG, process_tags
from pipeline.resources import Paths, StatisticsApis
from sources.catalog import load_indicators, load_source_settings
from sources.demo.standin import StandIn
from sources.demo.world import DemoWorld
from sources.geography import load_kommuner
from tests.conftest import CATALOG, REPO
from tests.pipeline_helpers import table
from tests.run_helpers import hold_lock, marker_job, run_started

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]

EMPTY = {"N15643", "N17673", "N66077", "N31807", "U09800"}


def files(data: Path) -> dict[str, tuple[int, int]]:
    """Every file of the warehouse and the current publication: (inode, mtime)."""
    found = {}
    for root in (data / "warehouse", data / "publications" / "current"):
        for path in root.resolve().rglob("*"):
            if path.is_file():
                found[str(path.relative_to(root.resolve()))] = (path.stat().st_ino, path.stat().st_mtime_ns)
    return found


def cli(command: str, data: Path, standin: StandIn) -> subprocess.CompletedProcess:
    env = {**os.environ, "UPPVAXT_DATA_DIR": str(data), "UPPVAXT_SOURCE": "live",
           "UPPVAXT_KOLADA_URL": standin.kolada_url, "UPPVAXT_SCB_URL": standin.scb_url,
           "DAGSTER_HOME": str(data.parent / "dagster_home")}
    (data.parent / "dagster_home").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "pipeline", command], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def world():
    years = load_source_settings(CATALOG / "sources.yaml").years.span
    return DemoWorld.build(load_kommuner(), load_indicators(CATALOG / "indicators.yaml"), years)


def test_quiet_nights_then_a_kpi_with_values_and_a_changed_kpi(world, tmp_path):
    quiet = world.variant(kpi_empty=EMPTY, scb_last_year=2024)
    standin = StandIn(quiet, seed=3).start()
    data = tmp_path / "data"
    try:
        built = cli("build", data, standin)
        assert built.returncode == 0, built.stdout + built.stderr
        assert "uppvaxt: publicerat" in built.stdout and "Inte tillgänglig N15643" in built.stdout
        before = files(data)
        for night in (1, 2):
            done = cli("nightly", data, standin)
            assert done.returncode == 0, (night, done.stdout + done.stderr)
            assert "Inget har ändrats hos Kolada eller SCB" in done.stdout, done.stdout
            assert "SCB TAB5557" not in done.stdout and "Inget nytt kunde tas in" not in done.stdout
            assert files(data) == before, night  # not one file rewritten, the warehouse included

        # A build killed holding the lock left its run "in progress": the next quiet night,
        # which otherwise opens no Dagster instance, marks it failed and says so.
        killed = hold_lock(data)
        killed.kill()
        killed.wait()
        instance = dg.DagsterInstance.from_config(str(data.parent / "dagster_home"))
        left = instance.create_run_for_job(marker_job(), tags={
            **process_tags(), PID_TAG: str(killed.pid), STARTED_TAG: ""})
        instance.handle_new_event(run_started(left))
        done = cli("nightly", data, standin)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Inget har ändrats hos Kolada eller SCB" in done.stdout, done.stdout
        assert (f"Tidigare körning: Körningen {left.run_id[:8]} (marker_job) avbröts utan att "
                f"avslutas: processen {killed.pid} finns inte längre") in done.stdout, done.stdout
        assert instance.get_run_by_id(left.run_id).status == dg.DagsterRunStatus.FAILURE
        assert files(data) == before

        # Values for N17673 arrive with an old change date: the nightly question misses them,
        # the Sunday night's full look finds them (and asks for them only).
        standin.set_world(world.variant(kpi_empty=EMPTY - {"N17673"}, scb_last_year=2024))
        paths = Paths(data_dir=str(data))
        apis = StatisticsApis(mode="live", kolada_url=standin.kolada_url, scb_url=standin.scb_url)
        assert not probe(paths, apis, today=date(2026, 11, 24)).anything   # a Tuesday
        sunday = probe(paths, apis, today=date(2026, 11, 29))
        assert sunday.refetch == ["N17673"] and sunday.reasons == ["Kolada N17673: hade inga värden; frågas igen"]

        # Kolada now has values for N15643 (changed today) and has revised N15428.
        today = date.today().isoformat()
        standin.set_world(world.variant(kpi_empty=EMPTY - {"N15643"}, scb_last_year=2024,
                                        kpi_modified={"N15643": today, "N15428": today},
                                        kpi_scale={"N15428": 0.98}))
        old_release = (data / "publications" / "current").resolve()
        done = cli("nightly", data, standin)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Kolada N15643: har fått värden hos Kolada" in done.stdout, done.stdout
        assert "Kolada N15428: ändrat hos Kolada" in done.stdout and "uppvaxt: publicerat" in done.stdout
        assert "Ändrat sedan förra publiceringen: " in done.stdout and "nya" in done.stdout
    finally:
        standin.stop()
    published = data / "published" / "uppvaxt.duckdb"
    vintage = dict(table(published, "select kpi_id, state from meta.kolada_vintage").rows())
    assert vintage["N15643"] == "fresh" and vintage["N15428"] == "fresh" and vintage["N17673"] == "unavailable"
    history = table(published, "select n_new, n_revised from meta.publication_history order by published_at")
    assert history.height == 2 and history["n_new"][1] > 0 and history["n_revised"][1] > 0
    # Only what shows N15428 or N15643 was rewritten: the other indicator pages are the
    # very same files as in the publication before.
    new_release = (data / "publications" / "current").resolve()
    assert new_release != old_release
    same = lambda name: (old_release / "site" / name).stat().st_ino == (new_release / "site" / name).stat().st_ino
    indicator_pages = sorted(p.name for p in (new_release / "site").glob("indikator-*.html"))
    rewritten = [name for name in indicator_pages if not same(name)]
    assert rewritten == ["indikator-n15428.html", "indikator-n15643.html"], rewritten
    assert same("assets/site.css")
