"""Live mode over real HTTP against the loopback stand-in (sources/demo/standin.py): the live
clients with their rate limits and retries ride through 10 % 429/503; a rescaled KPI is
blocked on the next build; the host going down leaves the snapshot and reports untouched."""

from __future__ import annotations

import pytest

from pipeline.resources import LIVE_LABEL, StatisticsApis
from sources.catalog import load_indicators, load_source_settings
from sources.demo.costs import cost_indicators
from sources.demo.standin import StandIn
from sources.demo.world import DemoWorld
from sources.geography import load_kommuner
from tests.conftest import CATALOG
from tests.pipeline_helpers import digest, failure_messages, run, table

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


@pytest.fixture(scope="module")
def world():
    years = load_source_settings(CATALOG / "sources.yaml").years.span
    return DemoWorld.build(load_kommuner(), load_indicators(CATALOG / "indicators.yaml")
                           + cost_indicators(CATALOG), years)


def test_live_build_over_http_with_faults_then_rescale_then_outage(world, tmp_path):
    standin = StandIn(world, fail_rate=0.1, seed=7).start()
    apis = StatisticsApis(mode="live", kolada_url=standin.kolada_url, scb_url=standin.scb_url)
    data = tmp_path / "data"
    try:
        first = run(data, apis=apis)
        assert first.success, failure_messages(first)
        assert standin.failed > 0  # some answers were 429/503 and were waited for
        published = data / "published" / "uppvaxt.duckdb"
        assert table(published, "select data_label from meta.publication").item() == LIVE_LABEL
        assert table(published, "select count(*) n from meta.data_quality").item() == 0

        standin.set_world(world.variant(kpi_scale={"N07403": 95.0}))
        second = run(data, apis=apis)
        assert second.success, failure_messages(second)
        quality = table(published, "select indicator_id, problem, state from meta.data_quality")
        assert quality.rows() == [("N07403", "drift", "blocked")]
    finally:
        standin.stop()
    before = digest(published), digest(data / "reports" / "index.html")
    down = run(data, apis=apis)
    assert not down.success
    assert "går inte att nå" in failure_messages(down)
    assert (digest(published), digest(data / "reports" / "index.html")) == before
