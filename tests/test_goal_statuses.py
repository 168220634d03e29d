"""Goal statuses that hold statistically (issue 14, point 4): each rule as a worked example."""

from __future__ import annotations

import polars as pl
import pytest

from tests.test_goals import INDICATORS, goals
from tests.test_need_index import facts
from transforms.goals import goal_progress


def latest(out: pl.DataFrame, goal: str = "g1") -> dict:
    return out.filter((pl.col("goal_id") == goal) & pl.col("is_latest")).row(0, named=True)


def test_achieved_only_beyond_the_interval():
    # Ödeshög, violent crime (decrease): 1,138 → 1,018 with interval 826–1,242; target 1,050.
    crime = {"goal_id": "g1", "indicator_id": "crime", "direction": "decrease", "target_value": 1050.0}
    data = facts([("crime", "0580", 2020, 1138.0, 930.0, 1370.0, "ok"),
                  ("crime", "0580", 2024, 1018.0, 826.0, 1242.0, "ok")])
    row = latest(goal_progress(goals(crime), data, INDICATORS))
    assert row["status"] == "near_target" and row["status_label"] == "nära målet – inte säkert uppnått"
    assert row["status_reason"] == "intervallet når tillbaka förbi målvärdet"
    # The same point with an interval wholly below the target (upper 1,040 ≤ 1,050): achieved.
    clear = facts([("crime", "0580", 2020, 1138.0, 930.0, 1370.0, "ok"),
                   ("crime", "0580", 2024, 1018.0, 996.0, 1040.0, "ok")])
    assert latest(goal_progress(goals(crime), clear, INDICATORS))["status"] == "achieved"
    # Increase: lower limit 90.0 ≥ target 90 is achieved (at the target counts).
    up = facts([("eligible", "0580", 2020, 80.0, 78.0, 82.0, "ok"),
                ("eligible", "0580", 2024, 92.0, 90.0, 94.0, "ok")])
    assert latest(goal_progress(goals({}), up, INDICATORS))["status"] == "achieved"


def test_no_year_after_the_baseline_is_no_new_measurement_not_off_track():
    data = facts([("eligible", "0580", 2020, 80.0, 76.0, 84.0, "ok")])
    row = latest(goal_progress(goals({}), data, INDICATORS))
    assert (row["year"], row["status"]) == (2020, "no_new_measurement")
    assert row["status_label"] == "ännu ingen ny mätning"
    assert row["status_reason"] == "ännu ingen mätning efter basåret"


def test_without_an_interval_the_direction_decides_and_says_so():
    data = facts([("crime", "0580", 2020, 900.0, None, None, "ok"),
                  ("crime", "0580", 2021, 950.0, None, None, "ok"),
                  ("crime", "0580", 2022, 900.0, None, None, "ok"),
                  ("crime", "0580", 2023, 650.0, None, None, "ok")])
    out = goal_progress(goals({"indicator_id": "crime", "direction": "decrease", "target_value": 700.0}),
                        data, INDICATORS)
    assert out["status"].to_list() == ["no_new_measurement", "wrong_direction", "no_certain_change",
                                       "near_target"]
    assert all("riktningen" in r for r in out["status_reason"].to_list()[1:3])
    assert out["status_reason"][3] == "utan konfidensintervall går det inte att säga att målet är säkert nått"


def test_a_baseline_that_differs_from_the_data_is_flagged_and_measured_from_the_data():
    # The register says 9.5; the data say 8.1 (7.6–8.6) for the baseline year.
    goal = {"indicator_id": "crime", "direction": "decrease", "baseline_value": 9.5, "target_value": 7.0}
    data = facts([("crime", "0580", 2020, 8.1, 7.6, 8.6, "ok"),
                  ("crime", "0580", 2022, 8.0, 7.5, 8.5, "ok")])
    out = goal_progress(goals(goal), data, INDICATORS)
    base, later = out.row(0, named=True), out.row(1, named=True)
    assert base["status"] == "no_new_measurement"          # not "på väg" from the baseline year itself
    assert base["baseline_mismatch"] and base["baseline_data_value"] == 8.1
    assert "basvärdet i registret (9,5) skiljer sig från data för 2020 (8,1, intervall 7,6–8,6)" in base["status_reason"]
    # 8.0 against the data's 8.1 (not the typed 9.5): SE_d = √(0.2551² + 0.2551²) = 0.3608,
    # z = −0.1/0.3608 = −0.277: no certain change (against 9.5 it would have been "på väg").
    assert later["change"] == pytest.approx(-0.1) and later["change_z"] == pytest.approx(-0.2772, abs=1e-3)
    assert later["status"] == "no_certain_change" and later["baseline_value"] == 9.5
    # A typed baseline inside the data's interval is not flagged.
    close = goal_progress(goals({**goal, "baseline_value": 8.3}), data, INDICATORS)
    assert close["baseline_mismatch"].to_list() == [False, False]


def test_data_that_stop_are_named():
    # The kommun's series ends 2021 while the indicator goes on to 2024 elsewhere.
    data = facts([("eligible", "0580", 2020, 80.0, 76.0, 84.0, "ok"),
                  ("eligible", "0580", 2021, 81.0, 77.0, 85.0, "ok"),
                  ("eligible", "0581", 2024, 70.0, 66.0, 74.0, "ok")])
    row = latest(goal_progress(goals({}), data, INDICATORS))
    assert row["year"] == 2021 and row["data_until"] == 2021
    assert "kommunens värden slutar 2021; indikatorn har värden till 2024" in row["status_reason"]
    # An indicator that stopped everywhere in 2021 while other data reach 2025.
    stopped = facts([("eligible", "0580", 2020, 80.0, 76.0, 84.0, "ok"),
                     ("eligible", "0580", 2021, 81.0, 77.0, 85.0, "ok"),
                     ("crime", "0581", 2025, 10.0, 9.0, 11.0, "ok")])
    row = latest(goal_progress(goals({}), stopped, INDICATORS))
    assert "indikatorn har inga värden efter 2021" in row["status_reason"]
    # Two years behind the data is normal (survey waves, late sources): not flagged.
    recent = facts([("eligible", "0580", 2020, 80.0, 76.0, 84.0, "ok"),
                    ("eligible", "0580", 2023, 81.0, 77.0, 85.0, "ok"),
                    ("crime", "0581", 2025, 10.0, 9.0, 11.0, "ok")])
    assert latest(goal_progress(goals({}), recent, INDICATORS))["data_until"] is None
