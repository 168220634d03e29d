"""Retries on transient faults only (issue 15 #7): a fetch step whose source could not be
reached is tried again; an answer that cannot be read is not, and its own error stays the
last word. The instance retries a run only when its worker crashed, and watches its runs."""

from __future__ import annotations

import shutil

import dagster as dg
import httpx
import pytest

from tests.conftest import REPO
from tests.pipeline_helpers import copy_of, failure_messages, faulty_demo, run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]
KOLADA = dg.AssetSelection.assets(dg.AssetKey(["raw", "kolada_value"]))


def events(result, kind: str) -> list:
    return [e for e in result.all_events if e.event_type_value == kind]


def test_a_source_that_was_down_is_tried_again_and_a_bad_answer_is_not(demo_build, tmp_path):
    data = copy_of(demo_build[0], tmp_path)
    refused = {"left": 3}  # the client's own tries, then the step's first attempt fails

    def down_then_up(request, response):
        if refused["left"] > 0:
            refused["left"] -= 1
            raise httpx.ConnectError("connection refused", request=request)

    result = run(data, apis=faulty_demo(fault=down_then_up), selection=KOLADA)
    assert result.success, failure_messages(result)
    assert len(events(result, "STEP_UP_FOR_RETRY")) == 1 and refused["left"] == 0

    def not_kolada(request, response):
        if request.url.path.startswith("/v3/kpi/"):
            return httpx.Response(200, json={"oops": []})

    result = run(data, apis=faulty_demo(fault=not_kolada), selection=KOLADA)
    assert not result.success and events(result, "STEP_UP_FOR_RETRY") == []
    assert "expected an object with a 'values' list" in failure_messages(result)


def test_the_instance_retries_crashed_workers_only_and_monitors_runs(tmp_path):
    shutil.copy(REPO / ".dagster_home" / "dagster.yaml", tmp_path / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    try:
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
        assert instance.run_retries_retry_on_asset_or_op_failure is False
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_start_timeout_seconds == 180
        assert instance.python_log_level == "INFO"  # the run log's default view without DEBUG
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
    finally:
        instance.dispose()
