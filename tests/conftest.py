"""Shared test helpers. Tests never touch the network: HTTP goes to in-process transports."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# A step that failed on a transient fault is retried after UPPVAXT_FETCH_RETRY_SECONDS (one
# minute in use); tests do not wait.
os.environ.setdefault("UPPVAXT_FETCH_RETRY_SECONDS", "0")

REPO = Path(__file__).resolve().parent.parent
REALDATA = Path(os.environ.get("UPPVAXT_REALDATA", REPO.parent / "shared" / "realdata"))
FIXTURES = Path(__file__).parent / "fixtures"
CATALOG = REPO / "data" / "catalog"


def realdata(*parts: str) -> Path:
    """A file under ../shared/realdata, or skip the test when that folder is absent."""
    path = REALDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path}")
    return path


@pytest.fixture(scope="session")
def kommuner():
    from sources.geography import load_kommuner

    return load_kommuner()


@pytest.fixture(scope="session")
def catalog_indicators():
    from sources.catalog import load_indicators

    return load_indicators(CATALOG / "indicators.yaml")


@pytest.fixture(scope="session")
def source_settings():
    from sources.catalog import load_source_settings

    return load_source_settings(CATALOG / "sources.yaml")


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory):
    """What `make run` does, once per test worker: the demo survey waves through the inbox,
    then everything. Tests work on copies (tests/pipeline_helpers.copy_of)."""
    import dagster as dg

    from pipeline.surveys import run_inbox
    from tests.pipeline_helpers import definitions, run

    data = tmp_path_factory.mktemp("build") / "data"
    instance = dg.DagsterInstance.ephemeral()
    inbox = run_inbox(definitions(data), instance, refresh=False)
    assert sorted(inbox.files) == ["lupp_2023_demo.csv", "sthlm_2024_demo.sav"] and not inbox.failed
    result = run(data, instance=instance)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return data, result, instance


@pytest.fixture(scope="session")
def site_marts(catalog_indicators, kommuner):
    """Small marts for the site's tests (tests/site_fixtures.py)."""
    from tests.site_fixtures import small_marts

    return small_marts(catalog_indicators, kommuner)
