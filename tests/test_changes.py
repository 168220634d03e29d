"""What changed since the previous publication (issue 15 #9; CONTRACT-changes.md): worked
examples of the diff, the decision states, the history row, and the analyst's view."""

from __future__ import annotations

import json

import duckdb
import polars as pl
import pytest

from checks.publication_models import HISTORY_MODELS
from checks.validate import validate
from transforms.changes import (CHANGE_SCHEMA, append, decision_states, history_row, kpi_states,
                                value_changes)

FACT = {"indicator_id": pl.String, "area_code": pl.String, "area_type": pl.String,
        "period": pl.Int32, "sex": pl.String, "breakdown": pl.String, "value": pl.Float64,
        "lower_95": pl.Float64, "upper_95": pl.Float64, "status": pl.String,
        "compared_to_lan": pl.String, "compared_to_riket": pl.String, "trend": pl.String,
        "fetched_at": pl.String}


def fact(area, period, value, lower=None, upper=None, status="ok", lan="similar", riket="similar",
         trend=None, indicator="N15428", sex="T", fetched="2026-11-23T03:30:00Z"):
    return {"indicator_id": indicator, "area_code": area, "area_type": "kommun" if len(area) == 4 else "lan",
            "period": period, "sex": sex, "breakdown": "all", "value": value, "lower_95": lower,
            "upper_95": upper, "status": status, "compared_to_lan": lan, "compared_to_riket": riket,
            "trend": trend, "fetched_at": fetched}


OLD = pl.DataFrame([
    fact("0580", 2023, 80.0, 76.0, 84.0),
    fact("0580", 2024, 81.0, 77.0, 85.0, trend="no_significant_change"),
    fact("0581", 2024, 50.0, 45.0, 55.0),                        # revised within its interval
    fact("0582", 2024, 60.0, 58.0, 62.0),                        # revised beyond its interval
    fact("0583", 2024, 70.0, 66.0, 74.0),                        # only float noise
    fact("0584", 2024, None, status="suppressed", riket=None),   # becomes shown
    fact("0585", 2024, 30.0, 25.0, 35.0),                        # gone
    fact("05", 2024, 75.0, 74.0, 76.0, riket="better"),          # comparison changes
], schema=FACT)
NEW = pl.DataFrame([
    fact("0580", 2023, 80.0, 76.0, 84.0),
    fact("0580", 2024, 81.0, 77.0, 85.0, trend="increasing_better"),
    fact("0580", 2025, 83.0, 79.0, 87.0),                        # a new year
    fact("0581", 2024, 52.0, 47.0, 57.0),
    fact("0582", 2024, 66.0, 64.0, 68.0),
    fact("0583", 2024, 70.0 * (1 + 1e-12), 66.0, 74.0),
    fact("0584", 2024, 12.0, 8.0, 16.0),
    fact("05", 2024, 75.0, 74.0, 76.0, riket="similar"),
], schema=FACT)


@pytest.fixture(scope="module")
def changes():
    return value_changes(OLD, NEW, "run-2", "run-1")


def test_each_kind_of_change_is_flagged_once(changes):
    by_area = {(r["area_code"], r["period"]): r for r in changes.iter_rows(named=True)}
    assert sorted(by_area) == [("05", 2024), ("0580", 2024), ("0580", 2025), ("0581", 2024),
                               ("0582", 2024), ("0584", 2024), ("0585", 2024)]
    flags = lambda r: {k for k in ("is_new", "is_removed", "value_revised", "status_changed",
                                   "comparison_changed", "trend_changed") if r[k]}
    assert flags(by_area["0580", 2025]) == {"is_new"}
    assert flags(by_area["0585", 2024]) == {"is_removed"}
    assert flags(by_area["0580", 2024]) == {"trend_changed"}
    assert flags(by_area["05", 2024]) == {"comparison_changed"}
    assert flags(by_area["0584", 2024]) == {"value_revised", "status_changed", "comparison_changed"}
    # 50 → 52 stays inside 45–55 and 47–57; 60 → 66 leaves 58–62 (and 60 is outside 64–68)
    assert flags(by_area["0581", 2024]) == {"value_revised"} and by_area["0581", 2024]["beyond_interval"] is False
    assert by_area["0582", 2024]["beyond_interval"] is True
    # new, removed and a value that had no interval: nothing to say about intervals
    assert by_area["0580", 2025]["beyond_interval"] is None and by_area["0585", 2024]["beyond_interval"] is None
    assert by_area["0584", 2024]["beyond_interval"] is None  # a hidden value lies outside nothing
    assert (by_area["0584", 2024]["old_status"], by_area["0584", 2024]["new_status"]) == ("suppressed", "ok")


def test_the_contract_columns_and_types(changes):
    assert changes.schema == pl.Schema(CHANGE_SCHEMA)
    assert set(changes["run_id"]) == {"run-2"} and set(changes["previous_run_id"]) == {"run-1"}
    assert validate(changes, HISTORY_MODELS["meta.publication_change"]).passed
    assert changes.equals(value_changes(OLD, NEW, "run-2", "run-1"))  # deterministic


def test_a_first_publication_has_nothing_to_compare_with():
    assert value_changes(None, NEW, "run-1", None).is_empty()
    assert value_changes(NEW, NEW, "run-2", "run-1").is_empty()


def test_decision_states_of_the_marts_that_exist():
    goals = pl.DataFrame({"goal_id": ["g1", "g1", "g2"], "area_code": ["0580"] * 3,
                          "status": ["on_track", "achieved", "not_followable"],
                          "is_latest": [False, True, True]})
    need = pl.DataFrame({"area_code": ["0580", "0581"], "factor": ["skola", "skola"],
                         "level": pl.Series([5, None], dtype=pl.Int8), "status": ["ok", "missing"]})
    watch = pl.DataFrame({"lan_code": ["05", "05"], "area_code": ["0580", "0580"],
                          "indicator_id": [None, "N15428"], "reason": ["x", "y"],
                          "reason_code": ["a", "b"]})
    rows = decision_states("run-2", goals, need, watch)
    assert rows.select("kind", "area_code", "item_id", "state").rows() == [
        ("goal_status", "0580", "g1", "achieved"), ("goal_status", "0580", "g2", "not_followable"),
        ("need_level", "0580", "skola", "5"), ("need_level", "0581", "skola", "missing"),
        ("watch_list", "0580", "", "on"), ("watch_list", "0580", "N15428", "on")]
    assert validate(rows, HISTORY_MODELS["meta.decision_history"]).passed
    assert decision_states("run-2").is_empty()  # no coordination marts in this build


def test_the_history_row_counts_and_states(changes):
    indicators = pl.DataFrame({"indicator_id": ["N15428", "N17461", "N99999"]})
    quality = pl.DataFrame({"indicator_id": ["N17461", "N17461", "N99999"],
                            "state": ["stale", "blocked", "unavailable"],
                            "values_from": ["2026-10-01", "2026-10-01", None]})
    states = kpi_states(indicators, quality, NEW)
    assert json.loads(states) == {
        "N15428": {"state": "ok", "vintage": "2026-11-23"},
        "N17461": {"state": "blocked", "vintage": "2026-10-01"},   # the worse of two problems
        "N99999": {"state": "unavailable", "vintage": None}}
    publication = {"run_id": "run-2", "published_at": "2026-11-24T03:31:00Z", "data_label": "x",
                   "data_mode": "demo", "fingerprint": "f", "code_version": "c", "catalog_version": "k"}
    row = history_row(publication, "run-1", NEW.height, changes, states)
    assert row.select("n_values", "n_new", "n_revised", "n_removed", "n_status_changed",
                      "n_comparison_changed", "n_trend_changed").row(0) == (8, 1, 3, 1, 1, 2, 1)
    assert validate(row, HISTORY_MODELS["meta.publication_history"]).passed
    first = history_row({**publication, "run_id": "run-1"}, None, 8, changes.clear(), states)
    history = append(append(None, first, "run-1"), row, "run-2")
    assert history["run_id"].to_list() == ["run-1", "run-2"]
    assert append(history, row, "run-2")["run_id"].to_list() == ["run-1", "run-2"]  # replaced, not doubled


def test_the_view_lists_the_latest_publication_with_swedish_labels(tmp_path):
    """marts.v_andringar in a published snapshot with two publications behind it."""
    from tests.test_sql_door import published_demo_like

    changes = value_changes(OLD, NEW, "run-2", "run-1")
    older = value_changes(OLD.head(2), OLD, "run-1", "run-0")  # an earlier publication's rows
    base = {"data_label": "x", "data_mode": "demo", "fingerprint": "f", "code_version": "c",
            "catalog_version": "k"}
    history = pl.concat([
        history_row({**base, "run_id": "run-1", "published_at": "2026-11-23T03:30:00Z"}, "run-0",
                    OLD.height, older, "{}"),
        history_row({**base, "run_id": "run-2", "published_at": "2026-11-24T03:30:00Z"}, "run-1",
                    NEW.height, changes, "{}")])
    db = published_demo_like(tmp_path, history={
        "meta.publication_change": pl.concat([older, changes]),
        "meta.publication_history": history})
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.sql("select area_code, period, change_label, old_status_label, new_status_label, "
                       "new_compared_to_riket_label, area_name from marts.v_andringar "
                       "order by area_code, period").pl()
        comment = con.sql("select comment from duckdb_views() where view_name = 'v_andringar'").fetchall()[0][0]
        bare = con.sql("select column_name from duckdb_columns() where table_name = 'v_andringar' "
                       "and comment is null").fetchall()
    finally:
        con.close()
    assert rows.height == changes.height  # the latest publication only
    by = {(r["area_code"], r["period"]): r for r in rows.iter_rows(named=True)}
    assert by["0580", 2025]["change_label"] == "Nytt värde"
    assert by["0585", 2024]["change_label"] == "Borttaget värde"
    assert (by["0584", 2024]["old_status_label"], by["0584", 2024]["new_status_label"]) == ("Dolt", "Redovisat")
    assert by["05", 2024]["new_compared_to_riket_label"] == "Ingen säker skillnad"
    assert "förra publiceringen" in comment and bare == []
