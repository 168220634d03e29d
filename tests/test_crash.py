"""Crash safety (issue 9 #10): a build killed with SIGKILL at any point leaves the published
snapshot openable and equal to the last complete build, and the next build succeeds
without anyone cleaning up (temporary files, a half-written warehouse table, a WAL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO
from tests.pipeline_helpers import catalog_copy, copy_of, digest, edit_indicators

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


def start(data: Path, catalog: Path) -> subprocess.Popen:
    env = {**os.environ, "UPPVAXT_DATA_DIR": str(data), "UPPVAXT_CATALOG_DIR": str(catalog),
           "UPPVAXT_SOURCE": "demo"}
    env.pop("DAGSTER_HOME", None)
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


def run_id(snapshot: Path) -> str:
    con = duckdb.connect(str(snapshot), read_only=True)  # openable, and readable throughout
    try:
        assert con.sql("select count(*) from marts.fact_indicator").fetchall()[0][0] > 100_000
        return con.sql("select run_id from meta.publication").fetchall()[0][0]
    finally:
        con.close()


def test_killed_builds_leave_the_snapshot_and_the_next_build_recovers(demo_build, tmp_path):
    data = copy_of(demo_build[0], tmp_path)
    # A changed catalogue makes every build publish, so each point below is reached.
    catalog = catalog_copy(tmp_path, lambda d: edit_indicators(
        d, lambda entries: [dict(e, note="Ny anteckning") if e["id"] == "N15428" else e for e in entries]))
    snapshot = data / "published" / "uppvaxt.duckdb"
    manifest = data / "raw" / "manifest.jsonl"
    original = digest(snapshot), run_id(snapshot)
    fetched = manifest.stat().st_size

    points = {
        "while fetching": lambda: manifest.stat().st_size > fetched + 2000,
        "while publishing": lambda: any(snapshot.parent.glob(".uppvaxt.duckdb.*.tmp*")),
        "while writing reports": lambda: any((data / "reports").glob(".*.tmp")),
    }
    killed_at = []
    for name, condition in points.items():
        if not kill_when(start(data, catalog), condition):
            continue
        killed_at.append(name)
        if digest(snapshot) != original[0]:  # only once the new snapshot was complete
            assert name == "while writing reports", name
            assert run_id(snapshot) != original[1]
        else:
            assert run_id(snapshot) == original[1]
    assert killed_at[:2] == ["while fetching", "while publishing"], killed_at

    process = start(data, catalog)
    out, _ = process.communicate(timeout=900)
    assert process.returncode == 0, out
    assert "uppvaxt: publicerat" in out or "rapporterna färdigställda" in out, out
    assert run_id(snapshot) != original[1]
    assert not list(snapshot.parent.glob(".uppvaxt.duckdb.*"))  # leftovers removed
    assert not list((data / "raw").glob("*/*.tmp*"))
    assert manifest.read_bytes().endswith(b"\n")
    marker = json.loads((data / "reports" / ".uppvaxt-build.json").read_text())
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        assert marker["fingerprint"] == con.sql("select fingerprint from meta.publication").fetchall()[0][0]
    finally:
        con.close()
