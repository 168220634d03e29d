"""Shared test helpers. Tests never touch the network: HTTP goes to in-process transports."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
def site_marts(catalog_indicators, kommuner):
    """Small marts for the site's tests (tests/site_fixtures.py)."""
    from tests.site_fixtures import small_marts

    return small_marts(catalog_indicators, kommuner)
