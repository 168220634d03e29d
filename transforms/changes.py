"""What changed since the previous publication: the rows of the publication history.

Pure polars, no I/O. The publication step (pipeline/assets/reports.py) calls these with the
previously published `marts.fact_indicator` and the one about to be published, and appends
the results to three tables kept across builds (the contract in CONTRACT-changes.md):

* `value_changes` – meta.publication_change: one row per indicator × area × year × sex ×
  breakdown whose value, interval verdict, status, comparison with län or riket, or trend
  differs, or that is new or gone;
* `decision_states` – meta.decision_history: the small decision states of this publication
  (goal statuses, need levels, the watch list), diffed by the site between two runs;
* `history_row` – meta.publication_history: one row per publication with its counts.

A value counts as revised only beyond float noise (relative difference above 1e-9), so a
replay or a sum taken in another order is not a revision.
"""

from __future__ import annotations

import json

import polars as pl

KEY = ["indicator_id", "area_code", "period", "sex", "breakdown"]
TRACKED = ["area_type", "value", "lower_95", "upper_95", "status", "compared_to_lan",
           "compared_to_riket", "trend"]
RELATIVE_NOISE = 1e-9
# Change flags and the history count each one feeds.
FLAGS = {"is_new": "n_new", "value_revised": "n_revised", "is_removed": "n_removed",
         "status_changed": "n_status_changed", "comparison_changed": "n_comparison_changed",
         "trend_changed": "n_trend_changed"}

CHANGE_SCHEMA = {
    "run_id": pl.String, "previous_run_id": pl.String,
    "indicator_id": pl.String, "area_code": pl.String, "area_type": pl.String,
    "period": pl.Int64, "sex": pl.String, "breakdown": pl.String,
    "is_new": pl.Boolean, "is_removed": pl.Boolean, "value_revised": pl.Boolean,
    "beyond_interval": pl.Boolean, "status_changed": pl.Boolean,
    "comparison_changed": pl.Boolean, "trend_changed": pl.Boolean,
    "old_value": pl.Float64, "new_value": pl.Float64,
    "old_lower_95": pl.Float64, "old_upper_95": pl.Float64,
    "new_lower_95": pl.Float64, "new_upper_95": pl.Float64,
    "old_status": pl.String, "new_status": pl.String,
    "old_compared_to_lan": pl.String, "new_compared_to_lan": pl.String,
    "old_compared_to_riket": pl.String, "new_compared_to_riket": pl.String,
    "old_trend": pl.String, "new_trend": pl.String,
}
DECISION_SCHEMA = {"run_id": pl.String, "kind": pl.String, "area_code": pl.String,
                   "item_id": pl.String, "state": pl.String}
HISTORY_SCHEMA = {
    "run_id": pl.String, "previous_run_id": pl.String, "published_at": pl.String,
    "data_label": pl.String, "data_mode": pl.String, "fingerprint": pl.String,
    "code_version": pl.String, "catalog_version": pl.String, "n_values": pl.Int64,
    **{count: pl.Int64 for count in FLAGS.values()},
    "kpi_states": pl.String,
}
DECISION_KINDS = {"goal_status": "Målets status", "watch_list": "På bevakningslistan",
                  "need_level": "Behovsnivå"}
# Indicator states in kpi_states, worst first (an indicator with several problems shows the worst).
KPI_STATES = ["unavailable", "blocked", "stale", "ok"]


def _differs(old: pl.Expr, new: pl.Expr) -> pl.Expr:
    """Values differ: one is missing and the other not, or beyond float noise."""
    scale = pl.max_horizontal(old.abs(), new.abs())
    return (old.is_null() != new.is_null()) | (
        old.is_not_null() & new.is_not_null() & ((old - new).abs() > RELATIVE_NOISE * scale))


def _outside(value: pl.Expr, lower: pl.Expr, upper: pl.Expr) -> pl.Expr:
    return (value < lower) | (value > upper)


def value_changes(old: pl.DataFrame | None, new: pl.DataFrame, run_id: str,
                  previous_run_id: str | None) -> pl.DataFrame:
    """meta.publication_change rows of this publication: every key of the fact table (old or
    new) where a tracked column differs. No previous publication: no rows (nothing to compare)."""
    if old is None or previous_run_id is None:
        return pl.DataFrame(schema=CHANGE_SCHEMA)
    side = lambda frame, prefix: frame.select(
        *KEY, *[pl.col(c).alias(f"{prefix}_{c}") for c in TRACKED], pl.lit(True).alias(f"_{prefix}"))
    joined = side(old, "old").join(side(new, "new"), on=KEY, how="full", coalesce=True)
    is_new, is_removed = pl.col("_old").is_null(), pl.col("_new").is_null()
    both = ~is_new & ~is_removed
    ov, nv = pl.col("old_value"), pl.col("new_value")
    old_ci = pl.col("old_lower_95").is_not_null() & pl.col("old_upper_95").is_not_null()
    new_ci = pl.col("new_lower_95").is_not_null() & pl.col("new_upper_95").is_not_null()
    checkable = both & ((old_ci & nv.is_not_null()) | (new_ci & ov.is_not_null()))
    beyond = ((old_ci & nv.is_not_null() & _outside(nv, pl.col("old_lower_95"), pl.col("old_upper_95")))
              | (new_ci & ov.is_not_null() & _outside(ov, pl.col("new_lower_95"), pl.col("new_upper_95"))))
    ne = lambda column: pl.col(f"old_{column}").ne_missing(pl.col(f"new_{column}"))
    flagged = joined.with_columns(
        is_new=is_new, is_removed=is_removed,
        value_revised=both & _differs(ov, nv),
        beyond_interval=pl.when(checkable).then(beyond.fill_null(False)),
        status_changed=both & ne("status"),
        comparison_changed=both & (ne("compared_to_lan") | ne("compared_to_riket")),
        trend_changed=both & ne("trend"),
        area_type=pl.coalesce("new_area_type", "old_area_type"),
        run_id=pl.lit(run_id), previous_run_id=pl.lit(previous_run_id),
    )
    return (flagged.filter(pl.any_horizontal(*FLAGS))
            .select(list(CHANGE_SCHEMA)).cast(CHANGE_SCHEMA).sort(KEY))


def decision_states(run_id: str, goal_progress: pl.DataFrame | None = None,
                    need_index: pl.DataFrame | None = None,
                    watch_list: pl.DataFrame | None = None) -> pl.DataFrame:
    """meta.decision_history rows of this publication. A kind whose mart is None is absent."""
    parts = []
    if goal_progress is not None:
        parts.append(goal_progress.filter(pl.col("is_latest")).select(
            kind=pl.lit("goal_status"), area_code="area_code", item_id="goal_id", state="status"))
    if need_index is not None:
        parts.append(need_index.select(
            kind=pl.lit("need_level"), area_code="area_code", item_id="factor",
            state=pl.col("level").cast(pl.String).fill_null(pl.col("status"))))
    if watch_list is not None:
        parts.append(watch_list.select(
            kind=pl.lit("watch_list"), area_code="area_code",
            item_id=pl.col("indicator_id").fill_null(""), state=pl.lit("on")).unique())
    rows = [p.with_columns(run_id=pl.lit(run_id)) for p in parts]
    if not rows:
        return pl.DataFrame(schema=DECISION_SCHEMA)
    return (pl.concat([r.select(list(DECISION_SCHEMA)).cast(DECISION_SCHEMA) for r in rows])
            .unique().sort("kind", "area_code", "item_id", "state"))


def kpi_states(indicators: pl.DataFrame, data_quality: pl.DataFrame | None,
               facts: pl.DataFrame) -> str:
    """Per catalogue indicator: its state (ok, stale, blocked, unavailable) and the date its
    shown values were fetched, as JSON sorted by indicator id."""
    fetched = (facts.group_by("indicator_id")
               .agg(vintage=pl.col("fetched_at").drop_nulls().max().str.slice(0, 10)))
    worst = pl.DataFrame(schema={"indicator_id": pl.String, "state": pl.String,
                                 "values_from": pl.String})
    if data_quality is not None and data_quality.height:
        rank = {state: i for i, state in enumerate(KPI_STATES)}
        worst = (data_quality.filter(pl.col("state").is_in(KPI_STATES))
                 .with_columns(_rank=pl.col("state").replace_strict(rank, return_dtype=pl.Int8))
                 .sort("indicator_id", "_rank").unique("indicator_id", keep="first")
                 .select("indicator_id", "state", "values_from"))
    table = (indicators.select("indicator_id")
             .join(worst, on="indicator_id", how="left")
             .join(fetched, on="indicator_id", how="left")
             .with_columns(state=pl.col("state").fill_null("ok"),
                           vintage=pl.coalesce("vintage", "values_from"))
             .sort("indicator_id"))
    return json.dumps({row["indicator_id"]: {"state": row["state"], "vintage": row["vintage"]}
                       for row in table.iter_rows(named=True)}, ensure_ascii=False, sort_keys=True)


def history_row(publication: dict, previous_run_id: str | None, n_values: int,
                changes: pl.DataFrame, states: str) -> pl.DataFrame:
    """meta.publication_history's row for this publication (`publication`: the meta.publication
    fields run_id, published_at, data_label, data_mode, fingerprint, code_version,
    catalog_version)."""
    counts = {count: int(changes[flag].sum()) for flag, count in FLAGS.items()}
    row = {**{k: publication.get(k) for k in HISTORY_SCHEMA if k in publication},
           "previous_run_id": previous_run_id, "n_values": n_values, **counts, "kpi_states": states}
    return pl.DataFrame([row], schema=HISTORY_SCHEMA)


def append(history: pl.DataFrame | None, rows: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """The kept history plus this publication's rows (a run's earlier rows are replaced)."""
    if history is None or history.is_empty():
        return rows
    kept = history.filter(pl.col("run_id") != run_id).select(rows.columns).cast(rows.schema)
    return pl.concat([kept, rows])
