"""The indicator catalogue: the default set, and clear errors for broken entries."""

from __future__ import annotations

import re

import pytest
import yaml

from sources.catalog import CatalogError, indicators_frame, load_indicators
from tests.conftest import CATALOG, REPO

RESEARCH = REPO.parent / "shared" / "research" / "indicator-catalog.md"


def test_default_set_has_about_thirty_indicators(catalog_indicators):
    assert 28 <= len(catalog_indicators) <= 35
    frame = indicators_frame(catalog_indicators)
    assert frame["indicator_id"].n_unique() == frame.height
    assert set(frame["strategic_factor"]) == {"skola", "foraldraskap", "fritid", "narsamhalle", "none"}
    assert set(frame["verification"]) <= {"VERIFIED-API", "LIKELY"}


def test_ids_come_from_the_checked_research_list(catalog_indicators):
    """Only ids marked VERIFIED-API or LIKELY in the research list; no invented ids."""
    if not RESEARCH.exists():
        pytest.skip("research notes not available")
    text = RESEARCH.read_text(encoding="utf-8")
    unverified = set()
    for line in text.splitlines():
        if "UNVERIFIED" in line and line.startswith("|"):
            unverified.update(re.findall(r"\b[NU]\d{5}\b", line.split("|")[2]))
    for ind in catalog_indicators:
        assert re.search(rf"\b{ind.source_id}\b", text), ind.source_id
        assert ind.source_id not in unverified, ind.source_id


def catalog_with(tmp_path, change) -> str:
    doc = yaml.safe_load((CATALOG / "indicators.yaml").read_text(encoding="utf-8"))
    change(doc)
    path = tmp_path / "indicators.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("change, message", [
    (lambda d: d["indicators"][2].update(polarity="upp"),
     r"indicator #3 \('N15507'\): field 'polarity'"),
    (lambda d: d["indicators"][0].pop("title"), r"indicator #1 \('N15428'\): field 'title': Field required"),
    (lambda d: d["indicators"][4].update(source_id="X123"),
     r"indicator #5 \('N17461'\): field 'source_id'.*not a Kolada KPI id"),
    (lambda d: d["indicators"][0].update(population={"from": 19, "to": 0}),
     r"'N15428'.*field 'population.*'to' \(0\) is below 'from' \(19\)"),
    (lambda d: d["indicators"][0].update(ci_method="byar_exact"),
     r"'N15428'.*needs value_type 'rate' or 'count'"),
    (lambda d: d["indicators"][0].update(colour="blue"), r"'N15428'.*field 'colour': Extra inputs"),
    (lambda d: d["indicators"].append(dict(d["indicators"][0])), r"'N15428'.*duplicate id"),
])
def test_broken_entry_names_entry_and_field(tmp_path, change, message):
    with pytest.raises(CatalogError, match=message):
        load_indicators(catalog_with(tmp_path, change))


def test_not_yaml_is_reported_with_the_file(tmp_path):
    path = tmp_path / "indicators.yaml"
    path.write_text("indicators: [\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="indicators.yaml: not valid YAML"):
        load_indicators(path)
