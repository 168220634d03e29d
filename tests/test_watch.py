"""The watch list rule (transforms/watch.py), worked by hand on a few rows."""

from __future__ import annotations

import polars as pl

from checks.validate import validate
from checks.watch_model import WatchList
from transforms.watch import previous_periods, watch_list

INDICATORS = pl.DataFrame({
    "indicator_id": ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "F1", "POP"],
    "short_title": ["Skola 1", "Skola 2", "Skola 3", "Skola 4", "Skola 5", "Skola 6", "Skola 7",
                    "Skola 8", "Fritid 1", "Befolkning"],
    "strategic_factor": ["skola"] * 8 + ["fritid", "none"],
    "factor": ["protective"] * 9 + ["context"],
})
AREAS = pl.DataFrame({"area_code": ["00", "05", "0580", "0581"], "area_type": ["riket", "lan", "kommun", "kommun"],
                      "lan_code": [None, "05", "05", "05"]})


def fact(ind, area, period, cmp="similar", trend="no_significant_change", red_red=False, status="ok"):
    kind = {"00": "riket", "05": "lan"}.get(area, "kommun")
    return {"indicator_id": ind, "area_code": area, "area_type": kind, "period": period, "sex": "T",
            "breakdown": "all", "status": status, "compared_to_riket": cmp if kind == "kommun" else None,
            "trend": trend if kind == "kommun" else None, "red_red": red_red}


def facts(rows):
    national = [fact(i, "00", p) for i in INDICATORS["indicator_id"] for p in (2024, 2025)]
    return pl.DataFrame(national + rows, schema_overrides={"period": pl.Int32})


def test_three_worse_of_five_compared_is_a_signal_three_of_eight_is_not():
    # 0580: 3 worse of 5 compared (60 % >= 40 %); 0581: 3 worse of 8 compared (37.5 % < 40 %)
    rows = [fact(f"S{i}", "0580", 2025, "worse" if i <= 3 else "similar") for i in range(1, 6)]
    rows += [fact(f"S{i}", "0581", 2025, "much_worse" if i <= 3 else "better") for i in range(1, 9)]
    out = watch_list(facts(rows), INDICATORS, AREAS)
    assert out.select("area_code", "reason_code", "strategic_factor", "n_worse", "n_compared").rows() == [
        ("0580", "many_worse", "skola", 3, 5)]
    assert out["reason"][0] == ("Måluppfyllelse i skolan: säkert sämre än riket på 3 av 5 jämförda "
                                "indikatorer (Skola 1; Skola 2 och Skola 3).")
    assert out["indicator_id"].to_list() == [None] and out["lan_code"].to_list() == ["05"]
    assert validate(out, WatchList).passed


def test_red_red_is_not_also_worsening_and_context_never_counts():
    rows = [fact("S1", "0580", 2025, "worse", "decreasing_worse", red_red=True),
            fact("F1", "0580", 2025, "similar", "decreasing_worse"),
            fact("POP", "0580", 2025, "worse", "decreasing_worse", red_red=True),
            fact("S2", "0581", 2025, "worse", "decreasing_worse", status="suppressed")]
    out = watch_list(facts(rows), INDICATORS, AREAS)
    assert out.select("area_code", "reason_code", "indicator_id", "period").rows() == [
        ("0580", "red_red", "S1", 2025), ("0580", "worsening", "F1", 2025)]
    assert out["reason"].to_list() == [
        "Skola 1: säkert sämre än riket och säkert försämrad de senaste fem åren (2025).",
        "Fritid 1: säkert försämrad trend de senaste fem åren (2025)."]
    assert validate(out, WatchList).passed


def test_the_latest_year_decides_and_last_year_can_be_asked_for():
    frame = facts([fact("S1", "0580", 2024, "worse", "decreasing_worse", red_red=True),
                   fact("S1", "0580", 2025, "similar")])
    assert watch_list(frame, INDICATORS, AREAS).height == 0
    last_year = previous_periods(frame, pl.DataFrame({"indicator_id": ["S1"], "period": [2025]}))
    assert last_year.rows() == [("S1", 2024)]
    assert watch_list(frame, INDICATORS, AREAS, last_year)["reason_code"].to_list() == ["red_red"]


def test_an_empty_list_is_an_empty_valid_table():
    out = watch_list(facts([fact("S1", "0580", 2025)]), INDICATORS, AREAS)
    assert out.height == 0 and validate(out, WatchList).passed
