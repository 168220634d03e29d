"""The code location loads as `dagster dev` loads it, and every asset is fit for the UI."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from pipeline.definitions import defs
from tests.conftest import REPO

GROUPS = {"sources", "staging", "marts", "reports", "coordination"}


def test_dagster_cli_loads_the_code_location_from_pyproject(tmp_path):
    """`dagster definitions validate` resolves [tool.dagster] the same way `dagster dev` does."""
    cli = Path(sys.executable).parent / "dagster"
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run([str(cli), "definitions", "validate"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "uppvaxt" in result.stdout + result.stderr


def test_definitions_resolve():
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("build_all") is not None


def test_every_asset_is_described_grouped_owned_and_kinded():
    graph = defs.resolve_asset_graph()
    keys = list(graph.get_all_asset_keys())
    assert len(keys) >= 14
    for key in keys:
        node = graph.get(key)
        assert node.group_name in GROUPS, key
        assert node.owners == ["team:uppvaxt"], key
        assert node.kinds, key
        description = node.description or ""
        assert len(description) > 40, key
        assert any(ch in description for ch in "åäöÅÄÖ"), f"{key}: description is not Swedish"


def test_every_table_asset_has_a_blocking_schema_check_and_column_schema():
    graph = defs.resolve_asset_graph()
    tables = [k for k in graph.get_all_asset_keys() if k.path[0] in {"raw", "staging", "marts", "meta"}]
    for key in tables:
        # A table may have more checks (a register's non-blocking file check); its schema
        # check blocks.
        schema = [c for c in graph.asset_check_keys if c.asset_key == key and c.name.endswith("_schema")]
        assert schema, key
        assert defs.resolve_assets_def(key).get_spec_for_check_key(schema[0]).blocking, key
        assert "dagster/column_schema" in graph.get(key).metadata, key


def test_nightly_schedule_at_0330_stockholm(tmp_path):
    from pipeline.resources import Paths, StatisticsApis, default_resources

    schedule = defs.resolve_schedule_def("nightly_build")
    assert schedule.cron_schedule == "30 3 * * *"
    assert schedule.execution_timezone == "Europe/Stockholm"
    assert schedule.job_name == "build_all"
    resources = default_resources(Paths(data_dir=str(tmp_path)), StatisticsApis(mode="demo"))
    with dg.build_schedule_context(
            scheduled_execution_time=datetime(2026, 3, 29, 3, 30, tzinfo=ZoneInfo("Europe/Stockholm")),
            resources=resources) as context:
        [request] = schedule.evaluate_tick(context).run_requests  # nothing published yet: build
    assert request.tags["uppvaxt/refresh"] == "incremental"
