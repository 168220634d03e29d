"""A value outside its indicator's plausible range is flagged per value and never costs the
indicator (issue 15 #1: N11821, children 3–5 in preschool, is above 100 % where children
are enrolled in another kommun)."""

from __future__ import annotations

import polars as pl
import pytest
import yaml

from sources.catalog import CatalogError, indicators_frame, load_indicators
from tests.conftest import CATALOG
from transforms.data_quality import flag_implausible, range_problems, range_text

KEY = ["indicator_id", "area_code", "period", "sex", "breakdown"]


def facts(rows):
    return pl.DataFrame(
        [dict(zip(KEY + ["value", "status", "value_note", "source_id", "fetched_at"], r)) for r in rows],
        schema={"indicator_id": pl.String, "area_code": pl.String, "period": pl.Int32,
                "sex": pl.String, "breakdown": pl.String, "value": pl.Float64, "status": pl.String,
                "value_note": pl.String, "source_id": pl.String, "fetched_at": pl.String})


@pytest.fixture(scope="module")
def catalog():
    return indicators_frame(load_indicators(CATALOG / "indicators.yaml"))


FACTS = facts([
    ("N11821", "0180", 2023, "T", "all", 96.0, "ok", None, "kolada:N11821", "2026-11-20T03:30:00Z"),
    ("N11821", "0184", 2023, "T", "all", 112.5, "ok", None, "kolada:N11821", "2026-11-20T03:30:00Z"),
    ("N11821", "0186", 2024, "T", "all", 103.0, "ok", "SCB:s befolkning för 2023 används.",
     "kolada:N11821", "2026-11-21T03:30:00Z"),
    ("N11821", "0187", 2024, "T", "all", None, "suppressed", None, "kolada:N11821", None),
    ("N07403", "0180", 2023, "T", "all", -2.0, "ok", None, "kolada:N07403", "2026-11-20T03:30:00Z"),
    ("N15543", "0180", 2023, "T", "all", 250.0, "ok", None, "kolada:N15543", "2026-11-20T03:30:00Z"),
])


def test_the_catalogue_range_and_its_defaults(catalog):
    row = lambda i: catalog.filter(pl.col("indicator_id") == i).row(0, named=True)
    assert (row("N11821")["plausible_min"], row("N11821")["plausible_max"]) == (0, 100)
    assert "annan kommun" in row("N11821")["plausible_note"]
    rate = catalog.filter(pl.col("value_type") == "rate").row(0, named=True)
    assert (rate["plausible_min"], rate["plausible_max"]) == (0, None)   # no rate is negative
    mean = catalog.filter(pl.col("value_type") == "mean").row(0, named=True)
    assert (mean["plausible_min"], mean["plausible_max"]) == (None, None)  # a mean may be anything


def test_a_range_upside_down_is_refused_naming_the_entry(tmp_path):
    doc = yaml.safe_load((CATALOG / "indicators.yaml").read_text(encoding="utf-8"))
    doc["indicators"][0]["plausible"] = {"min": 10, "max": 5}
    (tmp_path / "indicators.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"'plausible'.*'max' \(5.0\) is below 'min' \(10.0\)"):
        load_indicators(tmp_path / "indicators.yaml")


def test_each_value_outside_gets_a_footnote_and_keeps_its_number(catalog):
    flagged = flag_implausible(FACTS, catalog)
    assert flagged.select(KEY + ["value"]).equals(FACTS.select(KEY + ["value"]))  # nothing dropped
    note = dict(zip(flagged["area_code"] + flagged["indicator_id"], flagged["value_note"]))
    assert note["0180N11821"] is None                                       # 96 % is plausible
    assert note["0184N11821"].startswith("Värdet ligger utanför det rimliga intervallet 0–100 %.")
    assert "inskrivna i förskola i en annan kommun" in note["0184N11821"]
    assert note["0186N11821"].startswith("SCB:s befolkning för 2023 används. Värdet ligger utanför")
    assert note["0187N11821"] is None                                       # hidden: nothing shown
    assert note["0180N07403"].startswith("Värdet ligger utanför det rimliga intervallet minst 0 ")


def test_one_data_quality_row_per_indicator_names_the_count_and_the_extreme(catalog):
    rows = range_problems(FACTS, catalog, None, "2026-11-23")
    assert rows.select("indicator_id", "problem", "state", "values_from", "first_seen").rows() == [
        ("N07403", "out_of_range", "flagged", "2026-11-20", "2026-11-23"),
        ("N11821", "out_of_range", "flagged", "2026-11-21", "2026-11-23"),
        ("N15543", "out_of_range", "flagged", "2026-11-20", "2026-11-23")]
    message = rows.filter(pl.col("indicator_id") == "N11821")["message"].item()
    assert message.startswith("2 värden ligger utanför det rimliga intervallet 0–100 %, som mest "
                              "112,5 % för område 0184 år 2023. Värdena visas med en fotnot.")
    again = range_problems(FACTS, catalog, rows.with_columns(first_seen=pl.lit("2026-10-01")), "2026-11-24")
    assert set(again["first_seen"]) == {"2026-10-01"} and set(again["last_seen"]) == {"2026-11-24"}
    assert range_problems(FACTS.filter(pl.col("area_code") == "0180",
                                       pl.col("indicator_id") == "N11821"), catalog, None, "x").is_empty()


def test_ranges_in_words():
    assert range_text(0, 100, "%") == "0–100 %"
    assert range_text(0, None, "per 1 000 invånare") == "minst 0 per 1 000 invånare"
    assert range_text(None, 2.5, "poäng") == "högst 2,5 poäng"
    assert range_text(0, 12345, "kr") == "0–12\u00a0345 kr"
