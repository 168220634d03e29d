"""Goal follow-up: the test for a change between two estimates, statuses and reasons."""

from __future__ import annotations

import polars as pl
import pytest

from transforms.goals import change_test, goal_progress
from tests.test_need_index import facts

INDICATORS = pl.DataFrame({"indicator_id": ["eligible", "crime", "survey_risk"],
                           "sex_split": ["KMT", "T", "T"]})
GOAL = {"goal_id": "g1", "area_code": "0580", "plan": "Plan", "goal_text": "Fler behöriga",
        "indicator_id": "eligible", "sex": "T", "breakdown": "all", "direction": "increase",
        "baseline_year": 2020, "baseline_value": None, "target_value": 90.0, "target_year": 2027}


def goals(*changes: dict) -> pl.DataFrame:
    return pl.DataFrame([{**GOAL, **c} for c in changes], schema={
        "goal_id": pl.String, "area_code": pl.String, "plan": pl.String, "goal_text": pl.String,
        "indicator_id": pl.String, "sex": pl.String, "breakdown": pl.String, "direction": pl.String,
        "baseline_year": pl.Int32, "baseline_value": pl.Float64, "target_value": pl.Float64,
        "target_year": pl.Int32})


def test_change_between_two_independent_estimates():
    # Altman & Bland (2003): SE from each 95 % interval, SE_d = √(SE1² + SE2²).
    # 80 (76.08–83.92) → SE 2.0; 86 (83.06–88.94) → SE 1.5; d = 6, SE_d = 2.5, z = 2.4.
    z, significant = change_test(86.0, (88.94 - 83.06) / (2 * 1.959963984540054), 80.0,
                                 (83.92 - 76.08) / (2 * 1.959963984540054))
    assert z == pytest.approx(2.4, abs=1e-4) and significant
    assert change_test(83.0, 2.0, 80.0, 1.5) == (pytest.approx(1.2), False)
    assert change_test(83.0, None, 80.0, 1.5) == (None, None)  # no interval: cannot be tested


def test_status_per_year():
    data = facts([
        ("eligible", "0580", 2020, 80.0, 76.08, 83.92, "ok"),
        ("eligible", "0580", 2021, 82.0, 78.08, 85.92, "ok"),   # z = 2/√8 = 0.71: no certain change
        ("eligible", "0580", 2022, 86.0, 83.06, 88.94, "ok"),   # z = 2.4: on track
        ("eligible", "0580", 2023, None, None, None, "suppressed"),
        ("eligible", "0580", 2024, 74.0, 71.06, 76.94, "ok"),   # z = −2.4: wrong direction
        ("eligible", "0580", 2025, 91.0, 89.0, 93.0, "ok"),     # target 90 reached, 89 < 90: near
    ])
    out = goal_progress(goals({}), data, INDICATORS)
    assert out["year"].to_list() == [2020, 2021, 2022, 2023, 2024, 2025]
    # Issue 14: the baseline year is "no new measurement yet"; reached within the interval is near.
    assert out["status"].to_list() == ["no_new_measurement", "no_certain_change", "on_track",
                                       "cannot_follow", "wrong_direction", "near_target"]
    assert out["status_label"].to_list()[2] == "på väg"
    assert out["baseline_value"].unique().to_list() == [80.0] and out["baseline_source"][0] == "data"
    assert out.filter(pl.col("year") == 2023)["status_reason"][0] == "dolt: färre än 5"
    assert out["is_latest"].to_list() == [False] * 5 + [True]
    assert out.filter(pl.col("year") == 2022)["change"][0] == pytest.approx(6.0)


def test_goals_that_cannot_be_followed_say_why():
    data = facts([("eligible", "0580", 2021, 82.0, 78.0, 86.0, "ok"),
                  ("crime", "0580", 2020, 900.0, None, None, "ok"),
                  ("crime", "0580", 2022, 800.0, None, None, "ok")])
    out = goal_progress(goals(
        {"goal_id": "no_baseline"},                                  # no 2020 value, none given
        {"goal_id": "by_sex", "indicator_id": "crime", "sex": "K"},  # indicator has no sex split
        {"goal_id": "no_data", "area_code": "0581"},
        {"goal_id": "grade", "indicator_id": "survey_risk", "breakdown": "ak9", "baseline_year": 2023},
        {"goal_id": "no_ci", "indicator_id": "crime", "direction": "decrease", "target_value": 700.0},
        {"goal_id": "typed", "baseline_value": 81.0, "baseline_year": 2019},
    ), data, INDICATORS)
    reason = {g: r for g, r in out.filter(pl.col("is_latest")).select("goal_id", "status_reason").iter_rows()}
    assert "basvärdet saknas" in reason["no_baseline"]
    assert reason["by_sex"] == "indikatorn crime redovisas inte per kön"
    assert reason["no_data"].startswith("indikatorn eligible har inga värden för kommun 0581")
    assert "ak9" in reason["grade"]
    no_ci = out.filter(pl.col("goal_id") == "no_ci")
    # Issue 14: without an interval the status comes from the direction (900 → 800, towards 700).
    assert no_ci["status"].to_list() == ["no_new_measurement", "on_track"]
    assert no_ci["change_significant"].to_list() == [None, None]
    assert "kan inte prövas" in no_ci["status_reason"][1] and "riktningen" in no_ci["status_reason"][1]
    # A baseline typed in the register for a year without data: that year's row shows it.
    typed = out.filter(pl.col("goal_id") == "typed")
    assert typed["year"].to_list() == [2019, 2021] and typed["baseline_source"][0] == "register"
    assert typed["change"].to_list() == [0.0, pytest.approx(1.0)]
