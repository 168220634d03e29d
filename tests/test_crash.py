"""Crash safety (issue 9 #10, issue 15 #4, #5): a build killed with SIGKILL at any point
leaves the database and the site as one earlier publication (both naming it), and no run "in
progress" behind it: the next build marks the killed runs failed, says so, and publishes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.conftest import REPO
from tests.pipeline_helpers import catalog_copy, copy_of, edit_indicators

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


def start(data: Path, catalog: Path, home: Path) -> subprocess.Popen:
    env = {**os.environ, "UPPVAXT_DATA_DIR": str(data), "UPPVAXT_CATALOG_DIR": str(catalog),
           "UPPVAXT_SOURCE": "demo", "DAGSTER_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "pipeline", "build"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def kill_when(process: subprocess.Popen, condition, timeout: float = 600) -> bool:
    """SIGKILL the build the moment `condition()` holds; False if it finished first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if condition():
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.005)
    process.kill()
    raise AssertionError("the build neither finished nor reached the point in time")


def left_behind(build: int) -> list[int]:
    """Processes a build started for its heavy work (pipeline/own_process.py names its parent
    last) that still run after it: a killed build must take them with it."""
    time.sleep(0.5)  # the kernel's signal to them, and their end
    found = []
    for entry in Path("/proc").iterdir():
        try:
            words = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if "pipeline.own_process" in words and str(build) in words and state != "Z":
            found.append(int(entry.name))
    return found


def publication_seen(data: Path) -> str:
    """The publication a reader sees: the database's and the site's must be the same."""
    con = duckdb.connect(str(data / "published" / "uppvaxt.duckdb"), read_only=True)
    try:
        assert con.sql("select count(*) from marts.fact_indicator").fetchall()[0][0] > 100_000
        database = con.sql("select run_id from meta.publication").fetchall()[0][0]
    finally:
        con.close()
    manifest = json.loads((data / "reports" / "publicering.json").read_text(encoding="utf-8"))
    start_page = (data / "reports" / "index.html").read_text(encoding="utf-8")
    assert re.search(r"Kolofon: publicering ([0-9a-f-]+)\.", start_page)[1] == database
    assert manifest["run_id"] == database
    return database


def test_killed_builds_leave_one_publication_and_no_run_in_progress(demo_build, tmp_path):
    data = copy_of(demo_build[0], tmp_path)
    home = tmp_path / "dagster_home"
    home.mkdir()
    # A changed catalogue makes every build publish, so each point below is reached.
    catalog = catalog_copy(tmp_path, lambda d: edit_indicators(
        d, lambda entries: [dict(e, note="Ny anteckning") if e["id"] == "N15428" else e for e in entries]))
    manifest = data / "raw" / "manifest.jsonl"
    original = publication_seen(data)
    fetched = manifest.stat().st_size
    staging = lambda pattern: any((data / "publications").glob(f".staging-*/{pattern}"))

    points = {
        "while fetching": lambda: manifest.stat().st_size > fetched + 2000,
        "while publishing the database": lambda: staging("database/.uppvaxt.duckdb.*.tmp*"),
        # The new database is complete in the staging folder while the site and the downloads
        # are written (a page's own temporary file lives too briefly to be seen reliably).
        "while writing the site": lambda: staging("database/uppvaxt.duckdb"),
    }
    instance = dg.DagsterInstance.from_config(str(home))
    in_progress = lambda: instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    for name, condition in points.items():
        build = start(data, catalog, home)
        assert kill_when(build, condition), name
        assert left_behind(build.pid) == [], name  # its publication's process died with it
        assert publication_seen(data) == original, name  # never a mix, never half
        # the killed run is left "in progress"; the ones before it were marked failed by
        # the build that followed them, before it started anything
        [left] = in_progress()
        assert left.job_name == "build_all", name

    process = start(data, catalog, home)
    out, _ = process.communicate(timeout=900)
    assert process.returncode == 0, out
    assert "uppvaxt: publicerat" in out, out
    assert f"Tidigare körning: Körningen {left.run_id[:8]} (build_all) avbröts utan att avslutas" in out, out
    assert publication_seen(data) != original
    assert in_progress() == []
    assert instance.get_run_by_id(left.run_id).status == dg.DagsterRunStatus.FAILURE
    assert not list((data / "publications").glob(".staging-*"))  # leftovers removed
    assert not list((data / "raw").glob("*/*.tmp*"))
    assert manifest.read_bytes().endswith(b"\n")


@pytest.mark.parametrize("part", ["publish", "render_downloads"])
def test_a_publication_whose_snapshot_or_downloads_fail_changes_nothing(demo_build, tmp_path, monkeypatch,
                                                                         part):
    """The snapshot is written in a thread and the downloads beside the page workers: either
    failing fails the publication with its error, leaves the current publication and the
    warehouse's history as they were, and leaves no staging folder and no worker behind."""
    import multiprocessing

    from pipeline import publication_work
    from pipeline.warehouse import read_table

    data = copy_of(demo_build[0], tmp_path)
    before = publication_seen(data)
    history = read_table(data / "warehouse" / "uppvaxt.duckdb", "meta", "publication_history")

    def fails(*args, **kwargs):
        raise OSError(f"{part} kunde inte skrivas")

    monkeypatch.setattr(publication_work, part, fails)
    row = {"run_id": "failing-run", "data_label": "Demodata – syntetiska värden", "data_mode": "demo",
           "published_at": "2026-01-01T00:00:00Z", "fingerprint": "x", "code_version": "c",
           "catalog_version": "k"}
    with pytest.raises(OSError, match="kunde inte skrivas"):
        publication_work.write_publication(str(data), row["data_label"], True, "failing-run", row)
    assert publication_seen(data) == before
    assert not list((data / "publications").glob(".staging-*"))
    assert read_table(data / "warehouse" / "uppvaxt.duckdb", "meta", "publication_history").equals(history)
    assert not multiprocessing.active_children()
